import { sql } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import type { Database, Queryable } from "./client.ts";
import { queryRows } from "./query.ts";

/**
 * What the role ucledger runs as may do to its own audit trail. A superuser or
 * the owner of `file_events` can disable the append-only triggers or drop the
 * table, so the hash chain is then the only guard; the two-role setup of
 * docs/security.md ("Roles and least privilege") takes that power away.
 */
export interface RolePrivileges {
  role: string;
  superuser: boolean;
  /** Owns `file_events` (directly or through a role it inherits). */
  ownsAuditTrail: boolean;
  /** Owns `api_requests`, so it may create and drop its monthly partitions. */
  ownsApiRequests: boolean;
}

export async function readRolePrivileges(db: Queryable): Promise<RolePrivileges> {
  const [row] = await queryRows<RolePrivileges>(
    db,
    // pg_has_role(…, 'USAGE'): ownership passes to members that inherit the owning role.
    sql`select current_user as role,
          (select rolsuper from pg_roles where rolname = current_user) as superuser,
          coalesce((select pg_has_role(current_user, tableowner, 'USAGE') from pg_tables where schemaname = 'public' and tablename = 'file_events'), false) as "ownsAuditTrail",
          coalesce((select pg_has_role(current_user, c.relowner, 'USAGE') from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public' and c.relname = 'api_requests'), false) as "ownsApiRequests"`,
  );
  return row!;
}

/** Where the remedy is written down, for the warning. */
export const LEAST_PRIVILEGE_DOCS = "docs/security.md, section Roles and least privilege";

/**
 * Warns once, at start-up, when the service's role could rewrite the audit
 * trail. Only on a server: embedded PGlite has a single superuser and nobody
 * else connects to it. Answers whether it warned.
 */
export async function warnIfOverPrivileged(database: Pick<Database, "db" | "kind">, logger: Logger): Promise<boolean> {
  if (database.kind !== "postgres") return false;
  const privileges = await readRolePrivileges(database.db);
  if (!privileges.superuser && !privileges.ownsAuditTrail) return false;
  const what = privileges.superuser ? "is a superuser" : "owns file_events";
  logger.warn(
    { role: privileges.role, superuser: privileges.superuser, ownsAuditTrail: privileges.ownsAuditTrail },
    `the database role ucledger runs as ${what}: it could disable the audit trail's append-only triggers or truncate it. Run the service as a role that may only read and insert the ledger (ucledger db grant-service ROLE; see ${LEAST_PRIVILEGE_DOCS})`,
  );
  return true;
}
