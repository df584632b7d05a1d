import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { apiAccessLog, type NewApiAccess } from "../schema/index.ts";
import { isoColumn } from "./iso.ts";
import { pageAcrossProjects, type KeysetOrder, type KeysetPosition } from "./keyset.ts";

/** Rows per insert: 8 columns each, far below the 65,535 bind-parameter limit. */
const INSERT_BATCH = 1_000;

export async function insertAccessEntries(db: Queryable, entries: NewApiAccess[]): Promise<void> {
  for (let i = 0; i < entries.length; i += INSERT_BATCH) {
    await db.insert(apiAccessLog).values(entries.slice(i, i + INSERT_BATCH));
  }
}

export interface AccessFilter {
  tokenName?: string | undefined;
  /** Half-open on requested_at. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface AccessEntry {
  id: string;
  requestedAt: string;
  requestId: string;
  tokenName: string | null;
  method: string;
  route: string | null;
  status: number;
  durationMs: number;
}

interface AccessRow {
  id: string;
  requested_at: string;
  request_id: string;
  token_name: string | null;
  method: string;
  route: string | null;
  status: number;
  duration_ms: number;
}

function conditions(filter: AccessFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.tokenName !== undefined) where.push(sql`token_name = ${filter.tokenName}`);
  if (filter.from !== undefined) where.push(sql`requested_at >= ${filter.from}::timestamptz`);
  if (filter.to !== undefined) where.push(sql`requested_at < ${filter.to}::timestamptz`);
  return where;
}

/** Newest first. */
export const ACCESS_ORDER: KeysetOrder = {
  lead: [{ expr: sql`api_access_log.requested_at`, cast: "timestamptz", field: "requested_at" }],
  tie: { expr: sql`api_access_log.id`, cast: "uuid", field: "id" },
  direction: "desc",
};

export async function listAccess(
  db: Queryable,
  query: { filter: AccessFilter; after: KeysetPosition | null; limit: number },
): Promise<{ items: AccessEntry[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<AccessRow & Record<string, unknown>>(db, {
    columns: sql.raw(`id::text as id, ${isoColumn("requested_at")}, request_id, token_name, method, route, status, duration_ms`),
    from: sql`api_access_log`,
    where: conditions(query.filter),
    order: ACCESS_ORDER,
    projects: null,
    after: query.after,
    limit: query.limit,
  });
  return {
    items: page.rows.map((r) => ({
      id: r.id,
      requestedAt: r.requested_at,
      requestId: r.request_id,
      tokenName: r.token_name,
      method: r.method,
      route: r.route,
      status: r.status,
      durationMs: r.duration_ms,
    })),
    next: page.next,
  };
}
