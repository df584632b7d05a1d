import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerCosts } from "../../src/api/costs.ts";
import { recordPricing } from "../../src/db/queries/pricing-plans.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { parsePricing } from "../../src/pricing-schema.ts";
import type { CostsReport } from "../../src/reports/costs/compute.ts";
import { readWeeklyReport } from "../../src/reports/weekly/build.ts";
import { renderCsv, renderText } from "../../src/reports/weekly/render.ts";
import { apiHarness, type ApiHarness } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { pricingBlock, seedSeries } from "./series.ts";

/**
 * GET /v1/costs, reporting.fct_cost_daily and the weekly report's costs
 * section against figures worked out by hand from the series in series.ts
 * (EUR, billing day 31: periods 2025-12-31..2026-01-30, 2026-01-31..02-27,
 * 2026-02-28..03-30).
 *
 * P1's plan: fee 10.00; includes 2 GB storage, 5 GB traffic, 1,000 operations;
 * extra 0.50/GB stored, 0.1234/GB traffic, 0.25 per 1,000 operations.
 * - 2026-01-30 (day 16 of data, last of its period): traffic 16 × 0.4 = 6.4 GB,
 *   1.4 over → 0.17276 → 0.17; operations 1,120, 120 over → 0.03; storage peak
 *   1.65 GB → 0. Total 10.20.
 * - 2026-01-31 (first day of the next period): nothing over. 10.00.
 * - 2026-02-27 (day 28 of 28): traffic 11.2 GB, 6.2 over → 0.76508 → 0.77;
 *   operations 1,960, 960 over → 0.24; storage 1.93 GB. Total 11.01.
 * - 2026-02-28 (first day): 10.00.
 * - 2026-03-15 (day 16 of 31): traffic 6.4 GB → 0.17 (crossed 5 GB on
 *   2026-03-12, day 13: 5.2 GB); operations 1,120 → 0.03 (crossed on 03-14,
 *   day 15: 1,050); storage peak 2.09 GB, 0.09 over → 0.045 → 0.05 (crossed
 *   2 GB on 03-07: 2.01 GB). Total 10.25.
 * P2's plan: fee 0; includes 1 GB traffic only; extra 0.02/GB stored, 0.05/GB
 * traffic, 0.40 per 1,000 operations.
 * - 2026-03-15: traffic 6 × 0.3 + 5 × 0.1 + 5 × 0.2 = 3.3 GB, 2.3 over →
 *   0.115 → 0.12; storage 0.5 GB → 0.01. Total 0.13. Account: 10.38.
 */

/** The text rendering wraps prose at 78 characters. */
const oneLine = (text: string) => text.replace(/\s+/g, " ");

const P1 = "costs-p1";
const P2 = "costs-p2";

const HAND: { day: string; project: string; cost: string; periodStart: string; periodEnd: string }[] = [
  { day: "2026-01-30", project: P1, cost: "10.20", periodStart: "2025-12-31", periodEnd: "2026-01-30" },
  { day: "2026-01-31", project: P1, cost: "10.00", periodStart: "2026-01-31", periodEnd: "2026-02-27" },
  { day: "2026-02-27", project: P1, cost: "11.01", periodStart: "2026-01-31", periodEnd: "2026-02-27" },
  { day: "2026-02-28", project: P1, cost: "10.00", periodStart: "2026-02-28", periodEnd: "2026-03-30" },
  { day: "2026-03-15", project: P1, cost: "10.25", periodStart: "2026-02-28", periodEnd: "2026-03-30" },
  { day: "2026-03-15", project: P2, cost: "0.13", periodStart: "2026-02-28", periodEnd: "2026-03-30" },
];

async function viewCost(db: TestDatabase["db"], day: string, project: string | null): Promise<string | undefined> {
  const rows = await queryRows<{ cost: string }>(
    db,
    sql`select cost_to_date::text as cost from reporting.fct_cost_daily where day = ${day}::date and project_key = ${project ?? "*"}`,
  );
  return rows[0]?.cost;
}

describe.each(backends)("costs on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  const costs = async (query: string) => {
    const res = await api.json<CostsReport>(`/v1/costs${query}`, { role: "viewer" });
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await seedSeries(database.db, P1, P2);
    api = await apiHarness(database);
    // Until src/api/app.ts registers the route itself.
    const registered = api.app.openAPIRegistry.definitions.some((d) => d.type === "route" && d.route.path === "/v1/costs");
    if (!registered) registerCosts(api.app, { database, logger: silentLogger, version: "test", projects: [] });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("shows usage without money, and says why, without a pricing block", async () => {
    await recordPricing(database.db, undefined, new Date("2026-03-16T00:00:00Z"));
    expect(await queryRows(database.db, sql`select * from reporting.fct_cost_daily`)).toEqual([]);

    const body = await costs("?date=2026-03-15");
    expect(body.configured).toBe(false);
    expect(body.reason).toMatch(/no pricing block in the configuration file/);
    expect(body.currency).toBeNull();
    expect(body.account!.cost).toBeNull();
    const p1 = body.projects.find((p) => p.projectKey === P1)!;
    // A calendar month without a billing day: 2026-03-01..03-15.
    expect(p1.period).toMatchObject({ start: "2026-03-01", end: "2026-03-31", daysElapsed: 15 });
    expect(p1.usage.traffic).toMatchObject({ used: 6_000_000_000, included: null, over: null, exceededOn: null, runsOutOn: null });
    expect(p1.cost).toBeNull();
    expect(p1.forecastCost).toBeNull();
    expect(p1.days.every((d) => d.costToDate === null)).toBe(true);

    const report = await readWeeklyReport(database.db, { projectKey: P1, week: "2026-W11", timezone: "UTC", now: new Date("2026-03-16T09:00:00Z") });
    const text = renderText(report, { reportUrl: "https://ledger.example/r" });
    const section = oneLine(text.slice(text.indexOf("Costs\n-----"), text.indexOf("Uploadcare API requests per day")));
    expect(section).toMatch(/No money shown: no pricing block in the configuration file/);
    expect(section).not.toMatch(/EUR|USD|fee /);
    expect(renderCsv(report)).toMatch(/costs,2026-03-15,configured,,,,"no pricing block/);
  });

  describe("with a plan per project", () => {
    beforeAll(async () => {
      await recordPricing(database.db, parsePricing(pricingBlock(P2), [P1, P2]), new Date("2026-03-16T01:00:00Z"));
    });

    it.each(HAND)("agree on $day for $project: $cost", async ({ day, project, cost, periodStart, periodEnd }) => {
      expect(await viewCost(database.db, day, project)).toBe(cost);
      const body = await costs(`?date=${day}`);
      const scope = body.projects.find((p) => p.projectKey === project)!;
      expect(scope.cost!.total).toBe(cost);
      expect(scope.period).toMatchObject({ start: periodStart, end: periodEnd });
      expect(scope.days.at(-1)).toMatchObject({ date: day, costToDate: cost });
    });

    it("shows the allowances crossed mid-period, the parts of the cost, and the account's total", async () => {
      const body = await costs("");
      expect(body).toMatchObject({ configured: true, reason: null, currency: "EUR", billingDay: 31, scope: "project", asOf: "2026-03-15" });
      const p1 = body.projects.find((p) => p.projectKey === P1)!;
      expect(p1.period).toEqual({ start: "2026-02-28", end: "2026-03-30", days: 31, daysElapsed: 16, daysLeft: 15 });
      expect(p1.cost).toEqual({ fee: "10.00", storage: "0.05", traffic: "0.17", operations: "0.03", total: "10.25" });
      expect(p1.usage.traffic).toMatchObject({ used: 6_400_000_000, included: 5_000_000_000, over: 1_400_000_000, exceededOn: "2026-03-12", runsOutOn: null });
      expect(p1.usage.operations).toMatchObject({ used: 1120, over: 120, exceededOn: "2026-03-14" });
      expect(p1.usage.storage).toMatchObject({ used: 2_090_000_000, latest: 2_090_000_000, over: 90_000_000, exceededOn: "2026-03-07" });
      expect(body.account!.cost!.total).toBe("10.38");
      expect(await viewCost(database.db, "2026-03-15", P1)).toBe("10.25");
      const [parts] = await queryRows<Record<string, string>>(
        database.db,
        sql`select monthly_fee::text as fee, storage_overage_cost::text as storage, traffic_overage_cost::text as traffic,
              operations_overage_cost::text as operations, traffic_over_bytes::text as over, period_day::text as day
            from reporting.fct_cost_daily where project_key = ${P1} and day = '2026-03-15'`,
      );
      expect(parts).toEqual({ fee: "10.00", storage: "0.05", traffic: "0.17", operations: "0.03", over: "1400000000", day: "16" });
    });

    it("forecasts the period's end linearly, with the last 7 days' range, and the day an allowance runs out", async () => {
      const body = await costs("?date=2026-03-15");
      const p1 = body.projects.find((p) => p.projectKey === P1)!;
      // Traffic: 6.4 GB in 16 days, 15 left → 6.4 + 6.0 = 12.4 GB (7.4 over → 0.91316 → 0.91);
      // operations 1,120 + 1,050 = 2,170 (1,170 over → 0.29); storage from 1.93 GB (02-27) to
      // 2.09 GB in 16 days, +0.15 GB in 15 → 2.24 GB (0.24 over → 0.12). 10 + 0.91 + 0.29 + 0.12.
      expect(p1.usage.traffic.forecast).toEqual({ expected: 12_400_000_000, low: 12_400_000_000, high: 12_400_000_000 });
      expect(p1.usage.storage.forecast).toEqual({ expected: 2_240_000_000, low: 2_240_000_000, high: 2_240_000_000 });
      expect(p1.forecastCost!.expected.total).toBe("11.32");
      // P2's traffic varies (0.1, 0.2, 0.3 GB): 3.3 + 3.3 × 15/16 = 6.39375 GB (5.39375 over → 0.27);
      // the last 7 days range from 0.1 to 0.3 GB a day: 4.8 GB (0.19) to 7.8 GB (0.34); storage 0.01.
      const p2 = body.projects.find((p) => p.projectKey === P2)!;
      expect(p2.usage.traffic.forecast).toEqual({ expected: 6_393_750_000, low: 4_800_000_000, high: 7_800_000_000 });
      expect(p2.forecastCost).toMatchObject({ expected: { total: "0.28" }, low: { total: "0.20" }, high: { total: "0.35" } });
      expect(body.account!.forecastCost).toMatchObject({ expected: { total: "11.60" }, low: { total: "11.52" }, high: { total: "11.67" } });
      expect(body.method).toMatch(/linear.*last 7 days/);

      // On 03-05, 2.4 GB of traffic in 6 days: 0.4 GB a day passes 5 GB on day 13, 03-12;
      // operations 420, 70 a day pass 1,000 on 03-14; storage 1.99 GB, +0.06 GB in 6 days → 2 GB passed on 03-07.
      const early = (await costs("?date=2026-03-05")).projects.find((p) => p.projectKey === P1)!;
      expect(early.usage.traffic).toMatchObject({ used: 2_400_000_000, exceededOn: null, runsOutOn: "2026-03-12" });
      expect(early.usage.operations).toMatchObject({ used: 420, runsOutOn: "2026-03-14" });
      expect(early.usage.storage).toMatchObject({ used: 1_990_000_000, runsOutOn: "2026-03-07" });
      expect(early.cost!.total).toBe("10.00");
    });

    it("puts the same figures in the weekly report, across a period boundary and mid-period", async () => {
      const march = await readWeeklyReport(database.db, { projectKey: P1, week: "2026-W11", timezone: "UTC", now: new Date("2026-03-16T09:00:00Z") });
      const text = oneLine(renderText(march, { reportUrl: "https://ledger.example/r" }));
      expect(text).toContain("This project's plan: EUR 10.25 so far (fee 10.00, storage 0.05, traffic 0.17, operations 0.03).");
      expect(text).toContain("Forecast for the period: EUR 11.32 (range 11.32 to 11.32).");
      expect(text).toMatch(/exceeded on 2026-03-12/);
      expect(renderCsv(march)).toContain("costs,2026-02-28..2026-03-30,cost_total,EUR,1025,,10.25 EUR; cents as of 2026-03-15");
      // Week 2026-W05 (01-26..02-01) crosses the period start of 01-31: the report shows the new period.
      const february = await readWeeklyReport(database.db, { projectKey: P1, week: "2026-W05", timezone: "UTC", now: new Date("2026-03-16T09:00:00Z") });
      expect(oneLine(renderText(february, { reportUrl: "x" }))).toContain("Billing period 2026-01-31 to 2026-02-27, as of 2026-02-01 (day 2 of 28; 26 left).");
      expect(await viewCost(database.db, "2026-02-01", P1)).toBe("10.00");
      expect(oneLine(renderText(february, { reportUrl: "x" }))).toContain("EUR 10.00 so far");
    });
  });

  describe("with one plan shared by the account", () => {
    beforeAll(async () => {
      await recordPricing(database.db, parsePricing(pricingBlock(P2, "account"), [P1, P2]), new Date("2026-03-16T02:00:00Z"));
    });

    it("bills the account's summed usage and shows each project's usage without money", async () => {
      // 9.7 GB traffic, 4.7 over → 0.57998 → 0.58; 1,120 operations → 0.03; storage peak
      // 2.09 + 0.5 = 2.59 GB, 0.59 over → 0.295 → 0.30 (half up). 10.91.
      expect(await viewCost(database.db, "2026-03-15", null)).toBe("10.91");
      expect(await viewCost(database.db, "2026-03-15", P1)).toBeUndefined();
      const body = await costs("?date=2026-03-15");
      expect(body.scope).toBe("account");
      expect(body.account!.cost).toEqual({ fee: "10.00", storage: "0.30", traffic: "0.58", operations: "0.03", total: "10.91" });
      const p2 = body.projects.find((p) => p.projectKey === P2)!;
      expect(p2.cost).toBeNull();
      expect(p2.costNote).toMatch(/billed together under the account's plan/);
      expect(p2.usage.traffic.used).toBe(3_300_000_000);
      const report = await readWeeklyReport(database.db, { projectKey: P2, week: "2026-W11", timezone: "UTC", now: new Date("2026-03-16T09:00:00Z") });
      expect(oneLine(renderText(report, { reportUrl: "x" }))).toContain("The account's plan (shared by every project): EUR 10.91 so far");
    });

    it("answers 404 for an unknown project and 400 for a date that does not exist", async () => {
      expect((await api.json<{ error: { code: string } }>("/v1/costs?project=nope", { role: "viewer" })).body.error.code).toBe("NOT_FOUND");
      const bad = await api.json<{ error: { code: string; message: string } }>("/v1/costs?date=2026-02-30", { role: "viewer" });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/^date: /);
    });
  });
});
