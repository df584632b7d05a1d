import { Gauge, type Registry } from "prom-client";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { queryRows } from "../db/query.ts";

/**
 * Sync health per project, stream and lane, read from `sync_runs` and
 * `job_claims` at scrape time so any instance answers for all.
 */

interface RunFigures {
  project_key: string;
  stream: string;
  lane: string;
  last_success: number | null;
  rows_written: number;
  failed_runs: number;
  last_run_failed: boolean;
}

interface IntervalFigures {
  project_key: string;
  job: string;
  interval_s: number | null;
}

/** Scheduled jobs named `<stream>.<lane>`, as sync_runs names the lane they run. */
export const SCHEDULED_LANES = ["files.webhooks", "files.new", "files.reconcile", "usage.daily"] as const;

/** Fires looked at to learn a lane's schedule: the shortest gap among them wins. */
const RECENT_SLOTS = 4;

export function registerSyncGauges(registry: Registry, db: Db, now: () => Date): void {
  // prom-client calls collect() once per metric per scrape; the first call refreshes all of them.
  let pending: Promise<void> | null = null;
  const refreshOnce = () => (pending ??= collect().finally(() => setTimeout(() => (pending = null), 0)));
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ["project", "stream", "lane"] as const, registers: [registry], collect: refreshOnce });

  const lastSuccess = gauge("ucledger_sync_last_success_timestamp_seconds", "When the last successful run of each stream and lane of each project finished (Unix seconds).");
  const lag = gauge("ucledger_sync_lag_seconds", "Seconds since the last successful run of each stream and lane finished.");
  const rowsWritten = gauge("ucledger_sync_rows_written", "Rows inserted or changed by all runs of each stream and lane (from sync_runs).");
  const failedRuns = gauge(
    "ucledger_sync_failed_runs",
    "Runs that ended failed, partial, rate_limited or abandoned (the process died), by stream and lane (from sync_runs).",
  );
  const lastRunFailed = gauge("ucledger_sync_last_run_failed", "1 when the most recent finished run of the stream and lane did not end ok.");
  const scheduleInterval = gauge(
    "ucledger_sync_schedule_interval_seconds",
    `Seconds between the scheduled fires of each lane's job: the shortest gap among its latest ${RECENT_SLOTS} claimed slots (from job_claims; absent until the scheduler fired twice).`,
  );

  const collect = async () => {
    const [runs, intervals] = await Promise.all([runFigures(db), intervalFigures(db)]);
    for (const g of [lastSuccess, lag, rowsWritten, failedRuns, lastRunFailed, scheduleInterval]) g.reset();
    const nowSeconds = now().getTime() / 1000;
    for (const row of runs) {
      const labels = { project: row.project_key, stream: row.stream, lane: row.lane };
      if (row.last_success !== null) {
        lastSuccess.set(labels, Number(row.last_success));
        lag.set(labels, Math.max(0, nowSeconds - Number(row.last_success)));
      }
      rowsWritten.set(labels, Number(row.rows_written));
      failedRuns.set(labels, Number(row.failed_runs));
      lastRunFailed.set(labels, row.last_run_failed ? 1 : 0);
    }
    for (const row of intervals) {
      if (row.interval_s === null) continue;
      const [stream, lane] = row.job.split(".") as [string, string];
      scheduleInterval.set({ project: row.project_key, stream, lane }, Number(row.interval_s));
    }
  };
}

function runFigures(db: Db): Promise<RunFigures[]> {
  return queryRows<RunFigures>(
    db,
    sql`select project_key, stream, lane,
               extract(epoch from max(finished_at) filter (where status = 'ok'))::float8 as last_success,
               coalesce(sum(inserted + changed), 0)::int8 as rows_written,
               count(*) filter (where status in ('failed', 'partial', 'rate_limited', 'abandoned'))::int as failed_runs,
               coalesce((array_agg(status order by finished_at desc) filter (where finished_at is not null))[1]
                        in ('failed', 'partial', 'rate_limited', 'abandoned'), false) as last_run_failed
        from sync_runs group by project_key, stream, lane`,
  );
}

/**
 * The schedule as the scheduler actually fired it, whatever cron the instances
 * were given: each claim's slot is its scheduled time. The shortest recent gap
 * ignores the long one a catch-up fire after downtime leaves. Each (project, job)
 * reads its newest slots through the primary key, never the whole table.
 */
function intervalFigures(db: Db): Promise<IntervalFigures[]> {
  return queryRows<IntervalFigures>(
    db,
    sql`select p.project_key, j.job,
               (select extract(epoch from min(s.gap))::float8
                  from (select slot - lead(slot) over (order by slot desc) as gap
                          from (select slot from job_claims c
                                 where c.project_key = p.project_key and c.job = j.job
                                 order by slot desc limit ${RECENT_SLOTS}) newest) s
                 where s.gap is not null) as interval_s
        from projects p cross join unnest(${sql.param([...SCHEDULED_LANES])}::text[]) as j(job)`,
  );
}
