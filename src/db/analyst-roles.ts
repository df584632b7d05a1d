import { createHash } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { AppError, ConflictError, ValidationError } from "../errors.ts";
import type { Db, Queryable } from "./client.ts";
import { queryRows } from "./query.ts";
import { REPORTING_SCHEMA } from "./queries/analyst.ts";

/**
 * Analysts' group roles, one per ledger database. Roles belong to the whole
 * server, and the shared `ucledger_analyst` of migration 0006 reads `reporting`
 * in every database that migration ran in; with CONNECT left to PUBLIC, a login
 * made for one ledger could read every other ledger on the server. So each
 * database gets a group role of its own, made here (not in a migration, which
 * would leave one role behind per test database on a shared server), and the
 * database takes CONNECT and TEMPORARY away from PUBLIC.
 */

const PREFIX = "ucledger_analyst_";
const MAX_IDENTIFIER_BYTES = 63;
/** A role name as CREATE ROLE accepts it unquoted (UCLEDGER_ANALYST_ROLE is held to the same). */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** What a new group role's sessions start with; the role's own settings are copied onto each login. */
export const ANALYST_SESSION_DEFAULTS: [string, string][] = [
  ["default_transaction_read_only", "on"],
  ["statement_timeout", "120s"],
  ["search_path", REPORTING_SCHEMA],
];

/**
 * `ucledger_analyst_<database>`, kept to [a-z0-9_] and 63 bytes. Whenever the
 * database's name had to be changed to fit (case, other characters, length), a
 * short hash of the real name is appended, so `ledger-a`, `ledger_a` and
 * `Ledger_A` get three roles, not one.
 */
export function analystRoleName(database: string, configured?: string): string {
  if (configured) return configured;
  const plain = `${PREFIX}${database}`;
  const cleaned = plain.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (cleaned === plain && cleaned.length <= MAX_IDENTIFIER_BYTES) return cleaned;
  const hash = createHash("sha256").update(database).digest("hex").slice(0, 8);
  return `${cleaned.slice(0, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`;
}

/** This database's analysts' role: UCLEDGER_ANALYST_ROLE, or the name derived from the database. */
export async function analystRoleOf(db: Queryable, configured?: string): Promise<string> {
  if (configured) return configured;
  const [row] = await queryRows<{ name: string }>(db, sql`select current_database() as name`);
  return analystRoleName(row!.name);
}

export interface AnalystRoleSetup {
  role: string;
  /** False when the role was there already (a run after an upgrade only re-grants). */
  created: boolean;
  database: string;
}

/**
 * Makes this database's analysts' role and its grants, idempotently: a NOLOGIN
 * group role with CONNECT on this database only, USAGE on schema reporting and
 * SELECT on every view in it (now, and on views later migrations add by the same
 * owner); PUBLIC loses CONNECT and TEMPORARY here, so the logins of other
 * ledgers cannot connect and no analyst can create temporary tables. The owner
 * keeps CONNECT; the service role has it from `ucledger db grant-service`.
 */
export async function setupAnalystRole(db: Db, role: string): Promise<AnalystRoleSetup> {
  if (!ROLE_NAME.test(role) || role.startsWith("pg_")) throw new ValidationError("analysts' role: lower-case letters, digits and _ only, at most 63, never pg_…");
  const [existing] = await queryRows<{ database: string; exists: boolean; can_login: boolean; superuser: boolean }>(
    db,
    sql`select current_database() as database, r.rolname is not null as exists,
          coalesce(r.rolcanlogin, false) as can_login, coalesce(r.rolsuper, false) as superuser
        from (select 1) one left join pg_roles r on r.rolname = ${role}`,
  );
  if (existing!.can_login || existing!.superuser) throw new ConflictError(`role ${role} exists and can log in (or is a superuser): it cannot be the analysts' group role; set UCLEDGER_ANALYST_ROLE to another name`);
  let created = false;
  if (!existing!.exists) {
    created = await db
      .transaction(async (tx) => {
        await execFormatted(tx, sql`select format('CREATE ROLE %I NOLOGIN', ${role}::text)`);
        for (const [key, value] of ANALYST_SESSION_DEFAULTS) {
          await execFormatted(tx, sql`select format('ALTER ROLE %I SET %I = %L', ${role}::text, ${key}::text, ${value}::text)`);
        }
        return true;
      })
      .catch((err: unknown) => {
        // Another setup made it at the same moment: theirs is ours.
        if (["42710", "23505"].includes(sqlState(err) ?? "")) return false;
        throw forbiddenOr(err);
      });
  }
  await db
    .transaction(async (tx) => {
      await execFormatted(tx, sql`select format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database())`);
      await execFormatted(tx, sql`select format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), current_user)`);
      await execFormatted(tx, sql`select format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(), ${role}::text)`);
      await execFormatted(tx, sql`select format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), ${role}::text)`);
      await execFormatted(tx, sql`select format('GRANT USAGE ON SCHEMA %I TO %I', ${REPORTING_SCHEMA}::text, ${role}::text)`);
      await execFormatted(tx, sql`select format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', ${REPORTING_SCHEMA}::text, ${role}::text)`);
      await execFormatted(tx, sql`select format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', ${REPORTING_SCHEMA}::text, ${role}::text)`);
    })
    .catch((err: unknown) => {
      throw forbiddenOr(err);
    });
  // REVOKE by someone who does not own the database only warns; say so rather than leave PUBLIC in.
  const [publicAcl] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        where d.datname = current_database() and a.grantee = 0 and a.privilege_type in ('CONNECT', 'TEMPORARY')`,
  );
  if (publicAcl!.n > 0) {
    throw new AppError("FORBIDDEN", "PUBLIC still has CONNECT or TEMPORARY on this database: run this as the database's owner (or a superuser)");
  }
  return { role, created, database: existing!.database };
}

export interface AnalystLoginRow {
  name: string;
  /** -1: no limit. */
  connectionLimit: number;
  /** ISO time in UTC, `infinity`, or null (a password that never expires). */
  validUntil: string | null;
  canLogin: boolean;
}

/** Direct members of this database's analysts' role, by name. */
export async function listAnalystLogins(db: Queryable, role: string): Promise<AnalystLoginRow[]> {
  const rows = await queryRows<{ name: string; connection_limit: number; valid_until: string | null; can_login: boolean }>(
    db,
    // pg_authid's rolvaliduntil through pg_roles; the password column is masked there.
    sql`select r.rolname as name, r.rolconnlimit as connection_limit, r.rolcanlogin as can_login,
          case when r.rolvaliduntil is null then null
               when r.rolvaliduntil = 'infinity' then 'infinity'
               else to_char(r.rolvaliduntil at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') end as valid_until
        from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles r on r.oid = m.member
        where g.rolname = ${role} order by r.rolname`,
  );
  return rows.map((r) => ({ name: r.name, connectionLimit: Number(r.connection_limit), validUntil: r.valid_until, canLogin: r.can_login }));
}

function sqlState(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code;
}

function forbiddenOr(err: unknown): unknown {
  if (sqlState(err) === "42501") {
    return new AppError("FORBIDDEN", "the database user may not create roles or grant on this database: it needs CREATEROLE and must own the database (or run this as an administrator)", { cause: err });
  }
  return err;
}

/** Identifiers cannot be bind parameters: format() quotes them server-side, then the statement runs. */
async function execFormatted(db: Queryable, formatter: SQL): Promise<void> {
  const [row] = await queryRows<{ format: string }>(db, formatter);
  await db.execute(sql.raw(row!.format));
}
