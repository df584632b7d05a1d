import { sql, type SQL } from "drizzle-orm";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import type { Db, Queryable } from "./client.ts";
import { queryRows } from "./query.ts";

/**
 * The service role of the two-role setup (docs/security.md, "Roles and least
 * privilege"): the owner migrates; the service reads and inserts, and updates
 * or deletes only where its normal work does. Nothing here grants ALTER,
 * TRIGGER, TRUNCATE or REFERENCES, so the service cannot disable the audit
 * trail's triggers, empty it, or change any table.
 *
 * Every table gets SELECT and INSERT. The lists below are the tables the code
 * updates (UPDATE, upserts, SELECT … FOR UPDATE) or deletes from; a table added
 * by a later migration gets SELECT and INSERT through default privileges, and
 * more only when it is added here and the command is run again.
 */
export const SERVICE_UPDATES = [
  "api_tokens", // last use, revocation
  "audit_chain_heads", // each appended event moves its project's head
  "audit_verify_marks", // how far `audit verify` got
  "daily_file_rollup_state",
  "dashboard_sessions",
  "file_quarantine", // last_seen_at of a record set aside again
  "file_reference_state",
  "files",
  "job_claims",
  "plan_items",
  "plans",
  "policies",
  "projects", // names, re-registered at every start
  "reference_sources",
  "refused_webhook_deliveries",
  "report_deliveries",
  "sync_checkpoints",
  "sync_runs",
  "usage_daily", // late figures rewritten
  "webhook_inbox", // deliveries marked applied
] as const;

export const SERVICE_DELETES = [
  "api_log_batches", // batches past their retry window
  "api_requests_default", // expired rows outside the monthly partitions
  "daily_file_rollup", // days recomputed
  "dashboard_sessions", // expired sessions
  "file_references", // a source's replaced references
  "reconcile_seen", // a finished scan's working set
  "reference_staging", // a replacement's staged rows
  "refused_webhook_deliveries", // old counters
  "sync_checkpoints", // a finished backfill's slice positions
] as const;

/** Written once, never changed: no grant may ever add UPDATE or DELETE here. */
export const APPEND_ONLY = ["file_events", "audit_anchors"] as const;

/** A role name as CREATE ROLE accepts it unquoted; anything else is refused before any SQL runs. */
const ROLE_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;

/** Privileges the service role holds on one table after the grant. */
export function servicePrivilegesOn(table: string): string[] {
  const privileges = ["SELECT", "INSERT"];
  if ((APPEND_ONLY as readonly string[]).includes(table)) return privileges;
  if ((SERVICE_UPDATES as readonly string[]).includes(table)) privileges.push("UPDATE");
  if ((SERVICE_DELETES as readonly string[]).includes(table)) privileges.push("DELETE");
  return privileges;
}

/**
 * Grants `role` what the service needs in this database, as the owner, after
 * migrations; idempotent (each table's grants are reset to the list first).
 * Answers one line per thing granted, for the command to print.
 */
export async function grantService(db: Db, role: string): Promise<string[]> {
  if (!ROLE_NAME.test(role)) throw new ValidationError("ROLE: lower-case letters, digits, _ and $ only, starting with a letter or _, at most 63");
  const [target] = await queryRows<{ exists: boolean; superuser: boolean; is_me: boolean; owns_audit: boolean }>(
    db,
    sql`select r.rolname is not null as exists, coalesce(r.rolsuper, false) as superuser, ${role} = current_user as is_me,
          coalesce((select pg_has_role(${role}, tableowner, 'USAGE') from pg_tables where schemaname = 'public' and tablename = 'file_events'), false) as owns_audit
        from (select 1) one left join pg_roles r on r.rolname = ${role}`,
  );
  if (!target?.exists) throw new NotFoundError("role", `${role} (create it first: CREATE ROLE ${role} LOGIN PASSWORD '…')`);
  if (target.is_me) throw new ConflictError(`${role} is the role running this command (the owner): grant to the service's own role, not to the owner`);
  if (target.superuser) throw new ConflictError(`${role} is a superuser: no grant can restrict it; run the service as an ordinary role`);
  if (target.owns_audit) throw new ConflictError(`${role} owns file_events (or inherits its owner): grants cannot restrict an owner; run migrations as another role`);

  const tables = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`,
  );
  const [schemas] = await queryRows<{ reporting: boolean; drizzle: boolean }>(
    db,
    sql`select exists (select from pg_namespace where nspname = 'reporting') as reporting,
               exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'drizzle' and c.relname = '__drizzle_migrations') as drizzle`,
  );
  const done: string[] = [];
  await db.transaction(async (tx) => {
    const run = async (statement: SQL, note: string) => {
      await execFormatted(tx, statement);
      done.push(note);
    };
    // Needed, not a formality: `ucledger analyst setup` takes CONNECT on the database away from PUBLIC.
    await run(sql`select format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), ${role}::text)`, "CONNECT on this database");
    await run(sql`select format('GRANT USAGE ON SCHEMA public TO %I', ${role}::text)`, "USAGE on schema public");
    for (const { name } of tables) {
      const privileges = servicePrivilegesOn(name);
      await execFormatted(tx, sql`select format('REVOKE ALL ON TABLE public.%I FROM %I', ${name}::text, ${role}::text)`);
      await run(sql`select format('GRANT ${sql.raw(privileges.join(", "))} ON TABLE public.%I TO %I', ${name}::text, ${role}::text)`, `${name}: ${privileges.join(", ")}`);
    }
    await run(sql`select format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', ${role}::text)`, "USAGE, SELECT on every sequence in public");
    await run(
      sql`select format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO %I', ${role}::text)`,
      "SELECT, INSERT on tables migrations add later (default privileges; run this again after upgrades for more)",
    );
    await execFormatted(tx, sql`select format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', ${role}::text)`);
    if (schemas?.reporting) {
      await run(sql`select format('GRANT USAGE ON SCHEMA reporting TO %I', ${role}::text)`, "USAGE on schema reporting");
      await run(sql`select format('GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO %I', ${role}::text)`, "SELECT on every reporting view (exports)");
      await execFormatted(tx, sql`select format('ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO %I', ${role}::text)`);
    }
    if (schemas?.drizzle) {
      // Start-up reads which migrations are applied, to skip migrating when nothing is pending.
      await execFormatted(tx, sql`select format('GRANT USAGE ON SCHEMA drizzle TO %I', ${role}::text)`);
      await run(sql`select format('GRANT SELECT ON drizzle.__drizzle_migrations TO %I', ${role}::text)`, "SELECT on drizzle.__drizzle_migrations (which migrations are applied)");
    }
  });
  return done;
}

/** Identifiers cannot be bind parameters: format() quotes them server-side, then the statement runs. */
async function execFormatted(db: Queryable, formatter: SQL): Promise<void> {
  const [row] = await queryRows<{ format: string }>(db, formatter);
  await db.execute(sql.raw(row!.format));
}
