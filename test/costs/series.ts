import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { addDays } from "../../src/reports/costs/billing-period.ts";

/**
 * The 60-day usage series the cost tests compute by hand: 2026-01-15 to
 * 2026-03-15, day i = 0…59.
 *
 * - P1: traffic 400,000,000 bytes a day; 70 operations a day; storage
 *   1,500,000,000 + 10,000,000 × i bytes (2,090,000,000 on 2026-03-15).
 * - P2: traffic 100,000,000 × (1 + i mod 3) bytes; no operations figures;
 *   storage 500,000,000 bytes every day.
 */
export const FIRST_DAY = "2026-01-15";
export const DAYS = 60;

export function usageSeries(p1: string, p2: string): { projectKey: string; date: string; metric: string; value: number }[] {
  const rows: { projectKey: string; date: string; metric: string; value: number }[] = [];
  for (let i = 0; i < DAYS; i++) {
    const date = addDays(FIRST_DAY, i);
    rows.push({ projectKey: p1, date, metric: "traffic", value: 400_000_000 });
    rows.push({ projectKey: p1, date, metric: "operations", value: 70 });
    rows.push({ projectKey: p1, date, metric: "storage", value: 1_500_000_000 + 10_000_000 * i });
    rows.push({ projectKey: p2, date, metric: "traffic", value: 100_000_000 * (1 + (i % 3)) });
    rows.push({ projectKey: p2, date, metric: "storage", value: 500_000_000 });
  }
  return rows;
}

export async function seedSeries(db: Db, p1: string, p2: string): Promise<void> {
  await registerProjects(db, [
    { projectKey: p1, name: "first", isDemo: false },
    { projectKey: p2, name: "second", isDemo: false },
  ]);
  const rows = usageSeries(p1, p2).map((r) => ({ ...r, unit: r.metric === "operations" ? "operations" : "bytes" }));
  await db.execute(
    sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at)
        select r."projectKey", r.date, r.metric, r.value, r.unit, '2026-03-16T02:00:00Z'::timestamptz
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r("projectKey" text, date date, metric text, value bigint, unit text)`,
  );
}

/** The pricing block of the tests: P1 on the default plan, P2 on its own (scope project), billing day 31. */
export function pricingBlock(p2: string, scope: "account" | "project" = "project") {
  return {
    currency: "EUR",
    billingDay: 31,
    scope,
    plan: {
      monthlyFee: "10.00",
      included: { storageGb: 2, trafficGb: 5, operations: 1000 },
      pricePerExtra: { storageGb: 0.5, trafficGb: "0.1234", thousandOperations: 0.25 },
    },
    ...(scope === "project"
      ? {
          projects: {
            [p2]: {
              monthlyFee: 0,
              included: { storageGb: 0, trafficGb: 1, operations: 0 },
              pricePerExtra: { storageGb: 0.02, trafficGb: 0.05, thousandOperations: 0.4 },
            },
          },
        }
      : {}),
  };
}
