import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getCharts, getReport, reportIdFor } from "../../src/db/queries/reports.ts";
import { queryRows } from "../../src/db/query.ts";
import { runWeeklyReportJob } from "../../src/reports/jobs.ts";
import { buildWeeklyReport } from "../../src/reports/weekly/build.ts";
import { computeWeeklyReport, type WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { weekPeriod } from "../../src/reports/weekly/period.ts";
import { readWeeklyRows } from "../../src/reports/weekly/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { AFTER_W13, BERLIN, seedDstWeek } from "./support.ts";

describe.each(backends)("weekly report reads and storage on %s", (kind) => {
  let database: TestDatabase;
  let report: WeeklyReport;
  let ids: Awaited<ReturnType<typeof seedDstWeek>>;
  const P = `rq-${kind}`;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    ids = await seedDstWeek(database.db, P);
    const current = weekPeriod("2026-W13", BERLIN);
    const previous = weekPeriod("2026-W12", BERLIN);
    const rows = await readWeeklyRows(database.db, { projectKey: P, current, previous });
    report = computeWeeklyReport({ rows, current, previous, generatedAt: AFTER_W13.toISOString() });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("counts uploads by local day, first and last instants in, next week's Monday out", () => {
    expect(report.days.map((d) => d.uploads.current)).toEqual([1, 0, 0, 0, 0, 1, 1]);
    expect(report.days.map((d) => d.uploads.previous)).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(report.totals.uploadBytes).toEqual({ current: 3500, previous: 8000 });
    expect(report.totals.unstored).toEqual({ current: 2, previous: 0 });
  });

  it("follows storage from files stored before the window through stores and removals", () => {
    expect(report.storage.bytesAtStart).toEqual({ current: 24_000, previous: 16_000 });
    expect(report.storage.bytesAtEnd).toEqual({ current: 17_000, previous: 24_000 });
    expect(report.storage.growthBytes).toEqual({ current: -7_000, previous: 8_000 });
    expect(report.totals.removed).toEqual({ current: 2, previous: 0 });
  });

  it("finds the largest new files and the unstored ones expiring after the week", () => {
    expect(report.largestFiles.map((f) => [f.uuid, f.state])).toEqual([
      [ids.b, "unstored"],
      [ids.a, "stored"],
      [ids.f, "removed"],
    ]);
    expect(report.expiring.files).toEqual({ current: 1, previous: 0 });
    expect(report.expiring.list.map((f) => [f.uuid, f.expiresAt])).toEqual([[ids.b, "2026-03-30T21:59:59.500Z"]]);
  });

  it("reads deletions with their actor, plans applied, API requests, usage and sync health", () => {
    expect(report.deletions.byActor).toEqual([
      { actor: "token:ops", source: "action", files: { current: 1, previous: 0 }, bytes: { current: 8000, previous: 0 } },
      { actor: "ucledger:sync", source: "reconcile", files: { current: 0, previous: 1 }, bytes: { current: 0, previous: 500 } },
    ]);
    expect(report.plans.byPlan).toEqual([{ planId: "plan-1", kind: "removed", files: { current: 1, previous: 0 } }]);
    expect(report.apiRequests.requests).toEqual({ current: 3, previous: 1 });
    expect(report.apiRequests.errors).toEqual({ current: 2, previous: 0 });
    expect(report.apiRequests.days.map((d) => d.requests.current)).toEqual([1, 1, 0, 0, 0, 0, 1]);
    expect(report.usage.synced).toBe(true);
    expect(report.usage.metrics.map((m) => [m.metric, m.total.current, m.total.previous])).toEqual([
      ["traffic", 5_000_000, 1_000_000],
      ["operations", 42, null],
    ]);
    expect(report.sync.lanes).toEqual([
      {
        stream: "files",
        lane: "new",
        lastSuccessAt: "2026-03-29T10:00:00.000000Z",
        previousLastSuccessAt: null,
        failedRuns: { current: 1, previous: 0 },
        incompleteRuns: { current: 0, previous: 0 },
      },
    ]);
  });

  it("stores the report once: a rerun writes nothing and answers the same id", async () => {
    const deps = { db: database.db, now: () => AFTER_W13 };
    const input = { projectKey: P, week: "2026-W13", timezone: BERLIN, publicUrl: "https://ledger.example/" };
    const first = await buildWeeklyReport(deps, input);
    const second = await buildWeeklyReport({ ...deps, now: () => new Date("2026-04-20T00:00:00Z") }, input);
    expect(first).toEqual({ id: reportIdFor(P, "weekly", "2026-03-22T23:00:00Z"), inserted: true, week: "2026-W13" });
    expect(second).toEqual({ ...first, inserted: false });

    const stored = await getReport(database.db, first.id);
    expect(stored).toMatchObject({ projectKey: P, kind: "weekly", label: "2026-W13", timezone: BERLIN, periodStart: "2026-03-22T23:00:00.000000Z", periodEnd: "2026-03-29T22:00:00.000000Z" });
    expect(stored!.content).toEqual({ ...JSON.parse(JSON.stringify(report)), costs: expect.objectContaining({ configured: false }) });
    expect(stored!.html).toContain(`https://ledger.example/v1/reports/${first.id}`);
    const charts = await getCharts(database.db, P, first.id);
    expect(charts.map((c) => c.name)).toEqual(["api-requests", "mime-types", "storage", "traffic", "uploads"]);
    expect(charts[0]!.png.subarray(1, 4).toString("ascii")).toBe("PNG");
    const [count] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from reports where project_key = ${P}`);
    expect(count!.n).toBe(1);
  });

  it("refuses a week that has not ended yet, naming the week", async () => {
    await expect(
      buildWeeklyReport({ db: database.db, now: () => new Date("2026-03-29T21:59:59Z") }, { projectKey: P, week: "2026-W13", timezone: "UTC", publicUrl: "http://x" }),
    ).rejects.toThrow(/^week: 2026-W13 has not ended yet in UTC/);
  });

  it("writes nothing when the scheduler's fence refuses", async () => {
    const fenced = Object.assign(new Error("the lease was taken over"), { name: "FencedError" });
    await expect(
      buildWeeklyReport(
        { db: database.db, now: () => AFTER_W13, fence: async () => Promise.reject(fenced) },
        { projectKey: P, week: "2026-W12", timezone: BERLIN, publicUrl: "http://x" },
      ),
    ).rejects.toThrow("the lease was taken over");
    const [count] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from reports where project_key = ${P} and label = '2026-W12'`);
    expect(count!.n).toBe(0);
  });

  it("the scheduled job stores the week before its slot, in the configured zone", async () => {
    const Q = `${P}-job`;
    await seedDstWeek(database.db, Q);
    const ctx = { projectKey: Q, slot: "2026-03-30T06:00:00.000000Z", fence: async () => {}, logger: silentLogger };
    await runWeeklyReportJob({ db: database.db, now: () => new Date("2026-04-02T00:00:00Z") }, { timezone: BERLIN, publicUrl: "http://x", mail: undefined }, ctx);
    // A caught-up fire of the same slot days later changes nothing.
    await runWeeklyReportJob({ db: database.db, now: () => new Date("2026-04-05T00:00:00Z") }, { timezone: BERLIN, publicUrl: "http://x", mail: undefined }, ctx);
    const rows = await queryRows<{ label: string; created_at: string }>(database.db, sql`select label, created_at::text as created_at from reports where project_key = ${Q}`);
    expect(rows).toEqual([{ label: "2026-W13", created_at: "2026-04-02 00:00:00+00" }]);
  });
});
