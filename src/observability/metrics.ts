import { Counter, Gauge, Registry } from "prom-client";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { queryRows } from "../db/query.ts";
import { quarantineCounts } from "../db/queries/quarantine.ts";
import { refusedDeliveryTotals } from "../db/queries/refused-deliveries.ts";
import { reportDeliveryCounts } from "../reports/metrics.ts";

/**
 * Prometheus metrics. Figures every instance shares (sync health, rows
 * written) are read from the database at scrape time, so any instance answers
 * for all; what happens inside one process (its Uploadcare requests, its
 * scheduler's claims) is counted in that process, to be summed across instances.
 */
export interface Metrics {
  registry: Registry;
  uploadcareRequests: Counter<"project" | "api" | "status">;
  schedulerEvents: Counter<"job" | "event">;
}

interface RunFigures {
  project_key: string;
  stream: string;
  lane: string;
  last_success: number | null;
  rows_written: number;
  failed_runs: number;
  last_run_failed: boolean;
}

export function createMetrics(db: Db, now: () => Date = () => new Date()): Metrics {
  const registry = new Registry();
  const uploadcareRequests = new Counter({
    name: "ucledger_uploadcare_requests_total",
    help: "Requests this instance made to Uploadcare, by project, API and HTTP status (\"none\" when no answer came).",
    labelNames: ["project", "api", "status"] as const,
    registers: [registry],
  });
  const schedulerEvents = new Counter({
    name: "ucledger_scheduler_events_total",
    help: "Scheduler events in this instance: claimed, skipped, took_over, succeeded, failed, fenced.",
    labelNames: ["job", "event"] as const,
    registers: [registry],
  });

  // prom-client calls collect() once per metric per scrape; the first call refreshes all five.
  let pending: Promise<void> | null = null;
  const refreshOnce = () => (pending ??= collectRuns().finally(() => setTimeout(() => (pending = null), 0)));

  const lastSuccess = new Gauge({
    name: "ucledger_sync_last_success_timestamp_seconds",
    help: "When the last successful run of each stream and lane of each project finished (Unix seconds).",
    labelNames: ["project", "stream", "lane"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const lag = new Gauge({
    name: "ucledger_sync_lag_seconds",
    help: "Seconds since the last successful run of each stream and lane finished.",
    labelNames: ["project", "stream", "lane"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const rowsWritten = new Gauge({
    name: "ucledger_sync_rows_written",
    help: "Rows inserted or changed by all runs of each stream and lane (from sync_runs).",
    labelNames: ["project", "stream", "lane"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const failedRuns = new Gauge({
    name: "ucledger_sync_failed_runs",
    help: "Runs that ended failed, partial, rate_limited or abandoned (the process died), by stream and lane (from sync_runs).",
    labelNames: ["project", "stream", "lane"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const lastRunFailed = new Gauge({
    name: "ucledger_sync_last_run_failed",
    help: "1 when the most recent finished run of the stream and lane did not end ok.",
    labelNames: ["project", "stream", "lane"] as const,
    registers: [registry],
    collect: refreshOnce,
  });

  // One query per scrape fills every sync gauge.
  const collectRuns = async () => {
    const rows = await queryRows<RunFigures>(
      db,
      sql`select project_key, stream, lane,
                 extract(epoch from max(finished_at) filter (where status = 'ok'))::float8 as last_success,
                 coalesce(sum(inserted + changed), 0)::int8 as rows_written,
                 count(*) filter (where status in ('failed', 'partial', 'rate_limited', 'abandoned'))::int as failed_runs,
                 coalesce((array_agg(status order by finished_at desc) filter (where finished_at is not null))[1]
                          in ('failed', 'partial', 'rate_limited', 'abandoned'), false) as last_run_failed
          from sync_runs group by project_key, stream, lane`,
    );
    for (const gauge of [lastSuccess, lag, rowsWritten, failedRuns, lastRunFailed]) gauge.reset();
    const nowSeconds = now().getTime() / 1000;
    for (const row of rows) {
      const labels = { project: row.project_key, stream: row.stream, lane: row.lane };
      if (row.last_success !== null) {
        lastSuccess.set(labels, Number(row.last_success));
        lag.set(labels, Math.max(0, nowSeconds - Number(row.last_success)));
      }
      rowsWritten.set(labels, Number(row.rows_written));
      failedRuns.set(labels, Number(row.failed_runs));
      lastRunFailed.set(labels, row.last_run_failed ? 1 : 0);
    }
  };

  new Gauge({
    name: "ucledger_report_deliveries",
    help: "Weekly report deliveries by project and status (queued, sending, sent, failed: will retry, gave_up: will not).",
    labelNames: ["project", "status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await reportDeliveryCounts(db)) this.set({ project: row.projectKey, status: row.status }, row.count);
    },
  });

  new Gauge({
    name: "ucledger_sync_quarantined_records",
    help: "Upstream file records the sync could not store as sent (file_quarantine), by project and disposition: set_aside (no row written) or stored_escaped (a documented substitute stored).",
    labelNames: ["project", "disposition"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await quarantineCounts(db)) this.set({ project: row.projectKey, disposition: row.disposition }, row.count);
    },
  });

  new Gauge({
    name: "ucledger_webhook_refused_deliveries_last_hour",
    help: "Webhook deliveries refused in the last hour (from refused_webhook_deliveries, all instances), by reason: signature_missing, signature_invalid, body_too_large.",
    labelNames: ["reason"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const from = new Date(now().getTime() - 3_600_000).toISOString();
      for (const row of await refusedDeliveryTotals(db, { from })) this.set({ reason: row.reason }, row.count);
    },
  });

  return { registry, uploadcareRequests, schedulerEvents };
}
