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
  /** Upstream records set aside in file_quarantine or stored escaped. */
  quarantined: number;
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
  quarantined: number;
  error: string | null;
}

const COLUMNS = sql.raw(`project_key, id::text as id, stream, lane, ${isoColumn("started_at")},
  ${isoColumn("finished_at")}, status, pages, seen, inserted, changed, quarantined, error`);

/** Newest first. */
export const SYNC_RUN_ORDER: KeysetOrder = {
  lead: [{ expr: sql`sync_runs.started_at`, cast: "timestamptz", field: "started_at" }],
  tie: { expr: sql`sync_runs.id`, cast: "uuid", field: "id" },
  direction: "desc",
};

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
    quarantined: r.quarantined,
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

/** What an abandoned run's error column says, whoever closed it. */
export const ABANDONED_ERROR = "the process running it stopped before finishing";

/**
 * Closes the `running` rows of a stream for a project as `abandoned`. Call only
 * while holding the stream's claim: one run of a stream goes at a time, so any
 * other row of it still `running` belongs to a process that died. Counts stay
 * as the dead run last wrote them.
 */
export async function abandonRunsOfStream(db: Queryable, projectKey: string, stream: string, closedBy: string): Promise<number> {
  const rows = await queryRows(db, sql`
    update sync_runs set status = 'abandoned', finished_at = now(),
      error = ${`${ABANDONED_ERROR}; closed by the next ${stream} run (${closedBy})`}
    where project_key = ${projectKey} and stream = ${stream} and status = 'running'
    returning 1`);
  return rows.length;
}

/**
 * At start-up: closes `running` rows whose stream has no live claim for the
 * project (see migration 0017: the sync streams are claim groups). A row under
 * a live claim may be another instance's run in progress and is left to the
 * next run of its stream.
 */
export async function abandonRunsWithoutLiveClaim(db: Queryable, closedBy: string): Promise<{ projectKey: string; stream: string; lane: string; id: string }[]> {
  const rows = await queryRows<{ project_key: string; stream: string; lane: string; id: string }>(db, sql`
    update sync_runs s set status = 'abandoned', finished_at = now(),
      error = ${`${ABANDONED_ERROR}; closed at start-up (${closedBy})`}
    where s.status = 'running'
      and not exists (select 1 from job_claims c
                      where c.project_key = s.project_key and c.status = 'running' and c.lease_until > now()
                        and job_run_group(c.job) = s.stream)
    returning s.project_key, s.stream, s.lane, s.id::text as id`);
  return rows.map((r) => ({ projectKey: r.project_key, stream: r.stream, lane: r.lane, id: r.id }));
}
