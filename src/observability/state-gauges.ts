import { Gauge, type Registry } from "prom-client";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { queryRows } from "../db/query.ts";
import { quarantineCounts } from "../db/queries/quarantine.ts";
import { refusedDeliveryTotals } from "../db/queries/refused-deliveries.ts";
import { reportDeliveryCounts } from "../reports/metrics.ts";

/**
 * What needs a person, read from the database at scrape time (any instance
 * answers for all): report deliveries, records set aside, refused webhooks,
 * reference sources and plans waiting for approval. Labels are projects,
 * configured source names and closed sets of states: never files or paths.
 */
export function registerStateGauges(registry: Registry, db: Db, now: () => Date): void {
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

  registerReferenceGauges(registry, db, now);
  registerPlanGauges(registry, db, now);
}

function registerReferenceGauges(registry: Registry, db: Db, now: () => Date): void {
  let pending: Promise<void> | null = null;
  const refreshOnce = () => (pending ??= collect().finally(() => setTimeout(() => (pending = null), 0)));
  const stale = new Gauge({
    name: "ucledger_reference_source_stale",
    help: "1 when a reference source has not reported within its stale_after_hours (or never has): it holds the files it referenced and finds no orphans.",
    labelNames: ["project", "source"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const lastReport = new Gauge({
    name: "ucledger_reference_source_last_report_timestamp_seconds",
    help: "When each reference source last reported its set (Unix seconds; absent when it never has).",
    labelNames: ["project", "source"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const collect = async () => {
    const at = now().toISOString();
    const rows = await queryRows<{ project_key: string; source: string; last_report: number | null; stale: boolean }>(
      db,
      sql`select project_key, source, extract(epoch from last_reported_at)::float8 as last_report,
                 (last_reported_at is null or last_reported_at < ${at}::timestamptz - stale_after_hours * interval '1 hour') as stale
          from reference_sources`,
    );
    stale.reset();
    lastReport.reset();
    for (const row of rows) {
      const labels = { project: row.project_key, source: row.source };
      stale.set(labels, row.stale ? 1 : 0);
      if (row.last_report !== null) lastReport.set(labels, Number(row.last_report));
    }
  };
}

function registerPlanGauges(registry: Registry, db: Db, now: () => Date): void {
  let pending: Promise<void> | null = null;
  const refreshOnce = () => (pending ??= collect().finally(() => setTimeout(() => (pending = null), 0)));
  const waiting = new Gauge({
    name: "ucledger_plans_awaiting_approval",
    help: "Plans proposed and not yet approved, expired or cancelled, by project.",
    labelNames: ["project"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const oldest = new Gauge({
    name: "ucledger_plans_awaiting_approval_oldest_timestamp_seconds",
    help: "When the oldest plan still awaiting approval was proposed, by project (Unix seconds; absent when none waits).",
    labelNames: ["project"] as const,
    registers: [registry],
    collect: refreshOnce,
  });
  const collect = async () => {
    // An expired plan may still read `proposed` until the expiry sweep: it waits for nobody.
    const rows = await queryRows<{ project_key: string; waiting: number; oldest: number }>(
      db,
      sql`select project_key, count(*)::int as waiting, extract(epoch from min(proposed_at))::float8 as oldest
          from plans where status = 'proposed' and expires_at > ${now().toISOString()}::timestamptz
          group by project_key`,
    );
    waiting.reset();
    oldest.reset();
    for (const row of rows) {
      waiting.set({ project: row.project_key }, Number(row.waiting));
      oldest.set({ project: row.project_key }, Number(row.oldest));
    }
  };
}
