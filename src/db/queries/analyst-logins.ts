import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { AppError, ConflictError, NotFoundError, ValidationError } from "../../errors.ts";
import type { Db } from "../client.ts";
import { queryRows } from "../query.ts";
import { setupAnalystRole } from "../analyst-roles.ts";
import { ANALYST_ROLE } from "./analyst.ts";

/** Login names: lower-case SQL identifiers that need no quoting, and never a reserved prefix. */
const LOGIN_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** psql's \password does the same: the server stores the verifier and never sees the password. */
const SCRAM_ITERATIONS = 4096;

export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, SCRAM_ITERATIONS, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

export function validateLoginName(name: string): string {
  if (!LOGIN_NAME.test(name)) throw new ValidationError("--name: lower-case letters, digits and _ only, starting with a letter or _, at most 63");
  // ucledger_analyst_…: the group roles of ledger databases, present and future.
  if (name.startsWith("pg_") || name.startsWith(ANALYST_ROLE)) throw new ValidationError(`--name: ${name} is reserved`);
  return name;
}

/** Connections one login may hold at once unless --connection-limit says otherwise. */
export const DEFAULT_CONNECTION_LIMIT = 5;

export interface CreateLoginOptions {
  /** This database's analysts' group role (src/db/analyst-roles.ts). */
  role: string;
  connectionLimit?: number;
}

/**
 * Creates a login role in this database's analysts' role with a random
 * password: it connects to this database only, reads the reporting views and
 * nothing else, creates no temporary tables, and holds at most
 * `connectionLimit` connections. The group role is set up (or its grants
 * renewed) first. Role-level settings do not pass to members at login, so the
 * group's settings (read-only, timeout, search path) are copied onto the new
 * login. The password leaves here once, in the result.
 */
export async function createAnalystLogin(db: Db, name: string, options: CreateLoginOptions): Promise<{ name: string; password: string; role: string }> {
  validateLoginName(name);
  const connectionLimit = options.connectionLimit ?? DEFAULT_CONNECTION_LIMIT;
  if (!Number.isInteger(connectionLimit) || connectionLimit < 1 || connectionLimit > 1000) throw new ValidationError("--connection-limit: a whole number from 1 to 1000");
  if (name === options.role) throw new ValidationError(`--name: ${name} is the analysts' group role`);
  const [exists] = await queryRows<{ taken: boolean }>(db, sql`select exists (select from pg_roles where rolname = ${name}) as taken`);
  if (exists?.taken) throw new ConflictError(`role ${name} already exists on this server; choose another name or drop it with: ucledger analyst drop-login --name ${name}`);
  const { role } = await setupAnalystRole(db, options.role);
  const password = randomBytes(24).toString("base64url");
  const settings = await queryRows<{ setting: string }>(
    db,
    sql`select unnest(s.setconfig) as setting from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
        where r.rolname = ${role} and s.setdatabase = 0`,
  );
  await db.transaction(async (tx) => {
    // Identifiers cannot be bind parameters: format() quotes them server-side.
    const statements = [
      sql`select format('CREATE ROLE %I LOGIN PASSWORD %L CONNECTION LIMIT %s IN ROLE %I', ${name}::text, ${scramVerifier(password)}::text, ${connectionLimit}::int, ${role}::text) as stmt`,
      ...settings.map((s) => {
        const [key = "", value = ""] = splitSetting(s.setting);
        return sql`select format('ALTER ROLE %I SET %I = %L', ${name}::text, ${key}::text, ${value}::text) as stmt`;
      }),
    ];
    for (const statement of statements) {
      const [row] = await queryRows<{ stmt: string }>(tx, statement);
      await tx.execute(sql.raw(row!.stmt));
    }
  }).catch((err: unknown) => {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === "42501") throw new AppError("FORBIDDEN", "the database user may not create roles: it needs CREATEROLE (or run this as an administrator)", { cause: err });
    throw err;
  });
  return { name, password, role };
}

/**
 * Drops a login made by createAnalystLogin: a member of this database's
 * analysts' role, or of the shared `ucledger_analyst` (logins made before roles
 * were per database). Refuses any other role.
 */
export async function dropAnalystLogin(db: Db, name: string, role: string): Promise<void> {
  validateLoginName(name);
  const [row] = await queryRows<{ member: boolean }>(
    db,
    // Direct membership, not pg_has_role: a superuser "has" every role.
    sql`select r.rolcanlogin and not r.rolsuper and exists (
          select from pg_auth_members m join pg_roles a on a.oid = m.roleid
          where m.member = r.oid and a.rolname in (${role}, ${ANALYST_ROLE})) as member
        from pg_roles r where r.rolname = ${name}`,
  );
  if (!row) throw new NotFoundError("role", name);
  if (!row.member) throw new ConflictError(`role ${name} is not an analyst login; not dropping it`);
  await db.transaction(async (tx) => {
    // Older logins were granted CONNECT themselves; newer ones have it through the group.
    const [revoke] = await queryRows<{ stmt: string }>(tx, sql`select format('REVOKE CONNECT ON DATABASE %I FROM %I', current_database(), ${name}::text) as stmt`);
    await tx.execute(sql.raw(revoke!.stmt));
    const [drop] = await queryRows<{ stmt: string }>(tx, sql`select format('DROP ROLE %I', ${name}::text) as stmt`);
    await tx.execute(sql.raw(drop!.stmt));
  });
}

/** `statement_timeout=120s` → [key, value]; values may hold `=`. */
function splitSetting(setting: string): [string, string] {
  const at = setting.indexOf("=");
  return [setting.slice(0, at), setting.slice(at + 1)];
}

/** The connection string an analyst uses: the server's, with the login's name and password. */
export function analystConnectionString(serverUrl: string, login: { name: string; password: string }): string {
  const url = new URL(serverUrl);
  url.username = login.name;
  url.password = login.password;
  return url.toString();
}
