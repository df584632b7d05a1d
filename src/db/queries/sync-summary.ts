import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { isoColumn } from "./iso.ts";

/**
 * Sync health as people read it: per stream and lane, when it last succeeded,
 * how far behind that is, how many runs failed lately and the last error,
 * instead of a list of minute-by-minute runs that found nothing to do.
 */
export interface LaneSummary {
  stream: string;
  lane: string;
  lastSuccessAt: string | null;
  /** Seconds from the last success to `now`; null when it never succeeded. */
  lagSeconds: number | null;
  lastRunAt: string | null;
  lastStatus: string | null;
  /** Runs started in the window that ended failed, partial, rate_limited or abandoned. */
  failures: number;
  runs: number;
  lastError: string | null;
}

/** Statuses that mean a run did not do all it should have. */
export const FAILED_RUN_STATUSES = ["failed", "partial", "rate_limited", "abandoned"] as const;

export async function syncLaneSummary(db: Queryable, input: { projectKey: string; since: Date; now: Date }): Promise<LaneSummary[]> {
  const rows = await queryRows<{
    stream: string;
    lane: string;
    last_success_at: string | null;
    last_run_at: string | null;
    last_status: string | null;
    failures: number | string;
    runs: number | string;
    last_error: string | null;
  }>(
    db,
    sql`select r.stream, r.lane,
        ${sql.raw(isoColumn("max(r.finished_at) filter (where r.status = 'ok')", "last_success_at"))},
        ${sql.raw(isoColumn("max(r.started_at)", "last_run_at"))},
        (array_agg(r.status order by r.started_at desc))[1] as last_status,
        count(*) filter (where r.started_at >= ${input.since.toISOString()}::timestamptz and r.status = any(${sql.param([...FAILED_RUN_STATUSES])}::text[])) as failures,
        count(*) filter (where r.started_at >= ${input.since.toISOString()}::timestamptz) as runs,
        (array_agg(r.error order by r.started_at desc) filter (where r.error is not null and r.status <> 'ok' and r.started_at >= ${input.since.toISOString()}::timestamptz))[1] as last_error
      from sync_runs r where r.project_key = ${input.projectKey}
      group by r.stream, r.lane order by r.stream, r.lane`,
  );
  return rows.map((r) => ({
    stream: r.stream,
    lane: r.lane,
    lastSuccessAt: r.last_success_at,
    lagSeconds: r.last_success_at === null ? null : Math.max(0, Math.round((input.now.getTime() - Date.parse(r.last_success_at)) / 1000)),
    lastRunAt: r.last_run_at,
    lastStatus: r.last_status,
    failures: Number(r.failures),
    runs: Number(r.runs),
    lastError: r.last_error,
  }));
}
