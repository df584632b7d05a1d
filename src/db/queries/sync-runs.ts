import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

export interface SyncRunFilter {
  projects: string[];
  streams?: string[] | undefined;
  statuses?: string[] | undefined;
  lanes?: string[] | undefined;
  /** Half-open on started_at. */
  startedFrom?: string | undefined;
  startedTo?: string | undefined;
}

export interface SyncRunEntry {
  projectKey: string;
  id: string;
  stream: string;
  lane: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  pages: number;
  seen: number;
  inserted: number;
  changed: number;
  error: string | null;
}

interface SyncRunRow {
  project_key: string;
  id: string;
  stream: string;
  lane: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  pages: number;
  seen: number;
  inserted: number;
  changed: number;
  error: string | null;
}

const COLUMNS = sql.raw(`project_key, id::text as id, stream, lane, ${isoColumn("started_at")},
  ${isoColumn("finished_at")}, status, pages, seen, inserted, changed, error`);

/** Newest first. */
export const SYNC_RUN_ORDER: KeysetOrder = {
  lead: [{ expr: sql`sync_runs.started_at`, cast: "timestamptz", field: "started_at" }],
  tie: { expr: sql`sync_runs.id`, cast: "uuid", field: "id" },
  direction: "desc",
};

/**
 * A run whose row still says `running` after this long is taken for dead (its
 * process crashed or was killed before recording how it ended).
 */
export const RUNNING_STALE_AFTER_MS = 2 * 60 * 60 * 1000;

function conditions(filter: SyncRunFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.streams?.length) where.push(sql`stream = any(${sql.param(filter.streams)}::text[])`);
  if (filter.statuses?.length) where.push(sql`status = any(${sql.param(filter.statuses)}::text[])`);
  if (filter.lanes?.length) where.push(sql`lane = any(${sql.param(filter.lanes)}::text[])`);
  if (filter.startedFrom !== undefined) where.push(sql`started_at >= ${filter.startedFrom}::timestamptz`);
  if (filter.startedTo !== undefined) where.push(sql`started_at < ${filter.startedTo}::timestamptz`);
  return where;
}

function toEntry(r: SyncRunRow): SyncRunEntry {
  return {
    projectKey: r.project_key,
    id: r.id,
    stream: r.stream,
    lane: r.lane,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    pages: r.pages,
    seen: r.seen,
    inserted: r.inserted,
    changed: r.changed,
    error: r.error,
  };
}

export async function listSyncRuns(
  db: Queryable,
  query: { filter: SyncRunFilter; after: KeysetPosition | null; limit: number },
): Promise<{ items: SyncRunEntry[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<SyncRunRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: sql`sync_runs`,
    where: conditions(query.filter),
    order: SYNC_RUN_ORDER,
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toEntry), next: page.next };
}

export async function countSyncRuns(db: Queryable, filter: SyncRunFilter, mode: CountMode): Promise<Total> {
  return countRows(db, {
    from: sql`sync_runs`,
    where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}

/**
 * Projects with a live run of the stream according to the database, whichever
 * instance runs it: a `running` row younger than RUNNING_STALE_AFTER_MS.
 */
export async function projectsWithLiveRuns(db: Queryable, stream: string, projects: string[], now: Date): Promise<string[]> {
  const since = new Date(now.getTime() - RUNNING_STALE_AFTER_MS).toISOString();
  const rows = await queryRows<{ project_key: string }>(db, sql`
    select distinct project_key from sync_runs
    where project_key = any(${sql.param(projects)}::text[]) and stream = ${stream}
      and status = 'running' and started_at > ${since}::timestamptz
    order by project_key`);
  return rows.map((r) => r.project_key);
}
