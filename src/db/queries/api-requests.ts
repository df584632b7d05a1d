import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

/** A status filter: one code, a class (`5xx` is 500–599), or `none` (no answer came). */
export type StatusMatch = { code: number } | { class: number } | { none: true };

export interface ApiRequestFilter {
  projects: string[];
  statuses?: StatusMatch[] | undefined;
  /** Exact path, or a prefix when it ends in `*`. */
  path?: string | undefined;
  sources?: string[] | undefined;
  apis?: string[] | undefined;
  methods?: string[] | undefined;
  runId?: string | undefined;
  /** Half-open on requested_at. */
  from?: string | undefined;
  to?: string | undefined;
}

export const API_REQUEST_ORDERS = ["recent", "errors_first"] as const;
export type ApiRequestOrder = (typeof API_REQUEST_ORDERS)[number];

export interface ApiRequestEntry {
  projectKey: string;
  id: string;
  requestedAt: string;
  source: string;
  api: string;
  method: string;
  path: string;
  query: string | null;
  status: number | null;
  durationMs: number;
  attempt: number;
  retryAfterS: number | null;
  bytes: number | null;
  error: string | null;
  runId: string | null;
}

interface ApiRequestRow {
  project_key: string;
  id: string;
  requested_at: string;
  source: string;
  api: string;
  method: string;
  path: string;
  query: string | null;
  status: number | null;
  duration_ms: number;
  attempt: number;
  retry_after_s: number | string | null;
  bytes: number | null;
  error: string | null;
  run_id: string | null;
  is_error?: boolean;
}

const IS_ERROR = sql.raw(`(api_requests.status is null or api_requests.status >= 400)`);

const COLUMNS = sql.raw(`project_key, id::text as id, ${isoColumn("requested_at")}, source, api, method, path, query,
  status, duration_ms, attempt, retry_after_s::float8 as retry_after_s, bytes, error, run_id, (status is null or status >= 400) as is_error`);

/** Newest first; with `errors_first`, failed and unanswered requests before the rest. */
export function apiRequestOrder(order: ApiRequestOrder): KeysetOrder {
  const time = { expr: sql`api_requests.requested_at`, cast: "timestamptz" as const, field: "requested_at" };
  return {
    lead: order === "errors_first" ? [{ expr: IS_ERROR, cast: "boolean", field: "is_error" }, time] : [time],
    tie: { expr: sql`api_requests.id`, cast: "uuid", field: "id" },
    direction: "desc",
  };
}

function statusCondition(match: StatusMatch): SQL {
  if ("none" in match) return sql`status is null`;
  if ("class" in match) return sql`(status >= ${match.class * 100} and status < ${match.class * 100 + 100})`;
  return sql`status = ${match.code}`;
}

function conditions(filter: ApiRequestFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.statuses?.length) where.push(sql`(${sql.join(filter.statuses.map(statusCondition), sql` or `)})`);
  if (filter.path !== undefined) {
    where.push(filter.path.endsWith("*") ? sql`starts_with(path, ${filter.path.slice(0, -1)})` : sql`path = ${filter.path}`);
  }
  if (filter.sources?.length) where.push(sql`source = any(${sql.param(filter.sources)}::text[])`);
  if (filter.apis?.length) where.push(sql`api = any(${sql.param(filter.apis)}::text[])`);
  if (filter.methods?.length) where.push(sql`method = any(${sql.param(filter.methods)}::text[])`);
  if (filter.runId !== undefined) where.push(sql`run_id = ${filter.runId}`);
  if (filter.from !== undefined) where.push(sql`requested_at >= ${filter.from}::timestamptz`);
  if (filter.to !== undefined) where.push(sql`requested_at < ${filter.to}::timestamptz`);
  return where;
}

export async function listApiRequests(
  db: Queryable,
  query: { filter: ApiRequestFilter; order: ApiRequestOrder; after: KeysetPosition | null; limit: number },
): Promise<{ items: ApiRequestEntry[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<ApiRequestRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: sql`api_requests`,
    where: conditions(query.filter),
    order: apiRequestOrder(query.order),
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return {
    items: page.rows.map((r) => ({
      projectKey: r.project_key,
      id: r.id,
      requestedAt: r.requested_at,
      source: r.source,
      api: r.api,
      method: r.method,
      path: r.path,
      query: r.query,
      status: r.status,
      durationMs: r.duration_ms,
      attempt: r.attempt,
      retryAfterS: r.retry_after_s === null ? null : Number(r.retry_after_s),
      bytes: r.bytes,
      error: r.error,
      runId: r.run_id,
    })),
    next: page.next,
  };
}

export async function countApiRequests(db: Queryable, filter: ApiRequestFilter, mode: CountMode): Promise<Total> {
  return countRows(db, {
    from: sql`api_requests`,
    where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}

/** The project key under which unverified webhook deliveries are logged (see sync/webhooks/receive.ts). */
export const UNVERIFIED_PROJECT = "-";
