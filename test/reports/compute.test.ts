import { describe, expect, it } from "vitest";
import { computeWeeklyReport, emptyRows, MIME_TYPES_SHOWN, type WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { weekPeriod } from "../../src/reports/weekly/period.ts";
import { CSV_HEADER, renderCsv, renderHtml, renderText } from "../../src/reports/weekly/render.ts";
import type { WeeklyRows } from "../../src/reports/weekly/rows.ts";
import { parseCsv } from "../api/helpers.ts";

const BERLIN = "Europe/Berlin";
const current = weekPeriod("2026-W13", BERLIN);
const previous = weekPeriod("2026-W12", BERLIN);
const GENERATED = "2026-03-30T06:00:00.000Z";

const upload = (at: string, count: number, bytes: number, unstoredCount = 0, unstoredBytes = 0) => ({ at, count, bytes, unstoredCount, unstoredBytes });

/** The spring-forward week in Berlin, with rows on each side of every boundary. */
function dstRows(): WeeklyRows {
  const rows = emptyRows({ key: "p-dst", name: "DST project" });
  rows.uploads = [
    upload("2026-03-16T10:00:00.000Z", 2, 2000), // previous week, Monday
    upload("2026-03-22T22:59:59.999Z", 1, 100), // Sunday 23:59 CET: still the previous week
    upload("2026-03-22T23:00:00.000Z", 3, 300, 1, 100), // Monday 00:00 CET: the current week's first instant
    upload("2026-03-28T22:45:00.000Z", 1, 50), // Saturday 23:45 CET
    upload("2026-03-28T23:00:00.000Z", 4, 400, 2, 200), // Sunday 00:00 CET
    upload("2026-03-29T01:30:00.000Z", 5, 500), // Sunday 03:30 CEST, just after the gap
    upload("2026-03-29T21:45:00.000Z", 6, 600), // Sunday 23:45 CEST: still this week…
    upload("2026-03-29T22:00:00.000Z", 7, 700), // …but 00:00 CEST on Monday is the next week (a UTC week would count it)
  ];
  rows.storedAtStart = { count: 10, bytes: 10_000 };
  rows.stores = [
    { at: "2026-03-17T12:00:00.000Z", count: 1, bytes: 1_000 },
    { at: "2026-03-23T09:00:00.000Z", count: 2, bytes: 5_000 },
    { at: "2026-03-29T21:00:00.000Z", count: 1, bytes: 700 },
  ];
  rows.removals = [
    { at: "2026-03-18T12:00:00.000Z", count: 2, bytes: 400, storedCount: 1, storedBytes: 300 },
    { at: "2026-03-25T12:00:00.000Z", count: 3, bytes: 900, storedCount: 2, storedBytes: 800 },
  ];
  rows.mimeTypes = [
    { week: "current", mimeType: "image/jpeg", count: 10, bytes: 1_000 },
    { week: "previous", mimeType: "image/jpeg", count: 8, bytes: 700 },
    { week: "current", mimeType: "video/mp4", count: 1, bytes: 5_000 },
    { week: "previous", mimeType: "application/pdf", count: 2, bytes: 900 },
  ];
  rows.deletions = [
    { week: "current", actor: "token:ops", source: "action", count: 3, bytes: 900 },
    { week: "current", actor: "ucledger:sync", source: "reconcile", count: 1, bytes: 10 },
    { week: "previous", actor: "token:ops", source: "action", count: 1, bytes: 50 },
  ];
  rows.requests = [
    { at: "2026-03-23T08:00:00.000Z", count: 100, errors: 3 },
    { at: "2026-03-16T08:00:00.000Z", count: 80, errors: 0 },
  ];
  rows.requestsByStatus = [
    { week: "current", status: 200, count: 97 },
    { week: "current", status: 429, count: 2 },
    { week: "current", status: null, count: 1 },
    { week: "previous", status: 200, count: 80 },
  ];
  rows.plans = [
    { week: "current", planId: "plan-b", kind: "removed", files: 4 },
    { week: "current", planId: "plan-a", kind: "stored", files: 9 },
    { week: "previous", planId: "plan-a", kind: "stored", files: 2 },
  ];
  rows.syncLanes = [
    { stream: "files", lane: "new", lastSuccessAt: "2026-03-29T21:00:00.000000Z", previousLastSuccessAt: "2026-03-22T21:00:00.000000Z", failed: { current: 2, previous: 0 }, incomplete: { current: 1, previous: 0 } },
    { stream: "files", lane: "reconcile", lastSuccessAt: null, previousLastSuccessAt: null, failed: { current: 0, previous: 1 }, incomplete: { current: 0, previous: 0 } },
  ];
  rows.usage = [
    { date: "2026-03-23", metric: "traffic", value: 1_000, unit: "bytes" },
    { date: "2026-03-29", metric: "traffic", value: 3_000, unit: "bytes" },
    { date: "2026-03-16", metric: "traffic", value: 500, unit: "bytes" },
    { date: "2026-03-23", metric: "storage", value: 9_000, unit: "bytes" },
    { date: "2026-03-28", metric: "storage", value: 9_500, unit: "bytes" },
  ];
  rows.deliveryFailures = [{ week: "current", failedAttempts: 3, deliveries: 2, gaveUp: 1 }];
  rows.expiring = [
    { week: "current", count: 2, bytes: 600 },
    { week: "previous", count: 1, bytes: 10 },
  ];
  rows.expiringFiles = [
    { uuid: "u-exp", filename: "late.png", mimeType: "image/png", size: 500, uploadedAt: "2026-03-29T20:00:00.000000Z", storedAt: null, removedAt: null },
  ];
  rows.largestFiles = [
    { uuid: "u-big", filename: "big.mp4", mimeType: "video/mp4", size: 5_000, uploadedAt: "2026-03-24T10:00:00.000000Z", storedAt: "2026-03-24T10:00:01.000000Z", removedAt: null },
    { uuid: "u-gone", filename: "gone.png", mimeType: "image/png", size: 400, uploadedAt: "2026-03-24T11:00:00.000000Z", storedAt: "2026-03-24T11:00:01.000000Z", removedAt: "2026-03-25T12:00:00.000000Z" },
  ];
  return rows;
}

const compute = (rows: WeeklyRows) => computeWeeklyReport({ rows, current, previous, generatedAt: GENERATED });

describe("computeWeeklyReport in a DST week (Europe/Berlin, 2026-W13)", () => {
  const report = compute(dstRows());

  it("assigns uploads to local days, the 23-hour Sunday included, and leaves out the next week's Monday", () => {
    expect(report.period).toMatchObject({ week: "2026-W13", hours: 167, previousWeek: "2026-W12" });
    expect(report.days.map((d) => d.uploads.current)).toEqual([3, 0, 0, 0, 0, 1, 15]);
    expect(report.days.map((d) => d.uploads.previous)).toEqual([2, 0, 0, 0, 0, 0, 1]);
    expect(report.days[6]).toMatchObject({ date: "2026-03-29", previousDate: "2026-03-22", hours: 23 });
    expect(report.totals.uploads).toEqual({ current: 19, previous: 3 });
    expect(report.totals.uploadBytes).toEqual({ current: 1850, previous: 2100 });
    expect(report.totals.unstored).toEqual({ current: 3, previous: 0 });
    expect(report.totals.unstoredBytes).toEqual({ current: 300, previous: 0 });
  });

  it("follows stored bytes from the baseline through stores and removals of stored files", () => {
    // Previous week: 10,000 + 1,000 stored − 300 removed; this week: + 5,000 − 800 + 700.
    expect(report.storage.bytesAtStart).toEqual({ current: 10_700, previous: 10_000 });
    expect(report.storage.bytesAtEnd).toEqual({ current: 15_600, previous: 10_700 });
    expect(report.storage.growthBytes).toEqual({ current: 4_900, previous: 700 });
    expect(report.storage.filesAtEnd).toEqual({ current: 11, previous: 10 });
    expect(report.days.map((d) => d.storageBytesAtEnd.current)).toEqual([15_700, 15_700, 14_900, 14_900, 14_900, 14_900, 15_600]);
    expect(report.totals.stored).toEqual({ current: 3, previous: 1 });
    expect(report.totals.removed).toEqual({ current: 3, previous: 2 });
    expect(report.totals.removedBytes).toEqual({ current: 900, previous: 400 });
  });

  it("ranks MIME types by this week's bytes and keeps the previous week beside them", () => {
    expect(report.mimeTypes).toEqual([
      { mimeType: "video/mp4", files: { current: 1, previous: 0 }, bytes: { current: 5_000, previous: 0 } },
      { mimeType: "image/jpeg", files: { current: 10, previous: 8 }, bytes: { current: 1_000, previous: 700 } },
      { mimeType: "application/pdf", files: { current: 0, previous: 2 }, bytes: { current: 0, previous: 900 } },
    ]);
  });

  it("lists deletions by who made them, plans by id and kind, API requests by status with errors", () => {
    expect(report.deletions.files).toEqual({ current: 4, previous: 1 });
    expect(report.deletions.byActor[0]).toEqual({ actor: "token:ops", source: "action", files: { current: 3, previous: 1 }, bytes: { current: 900, previous: 50 } });
    expect(report.plans.files).toEqual({ current: 13, previous: 2 });
    expect(report.plans.byPlan.map((p) => [p.planId, p.kind, p.files.current])).toEqual([
      ["plan-a", "stored", 9],
      ["plan-b", "removed", 4],
    ]);
    expect(report.apiRequests.requests).toEqual({ current: 100, previous: 80 });
    expect(report.apiRequests.errors).toEqual({ current: 3, previous: 0 });
    expect(report.apiRequests.byStatus.map((s) => [s.status, s.error])).toEqual([
      ["200", false],
      ["429", true],
      ["none", true],
    ]);
    expect(report.apiRequests.days[0]).toEqual({ date: "2026-03-23", requests: { current: 100, previous: 80 }, errors: { current: 3, previous: 0 } });
  });

  it("sums usage flows, takes levels on the last day, and says which days are missing", () => {
    expect(report.usage.synced).toBe(true);
    const [traffic, storage] = report.usage.metrics;
    expect(traffic).toMatchObject({ metric: "traffic", aggregate: "sum", total: { current: 4_000, previous: 500 } });
    expect(traffic!.days[1]).toEqual({ date: "2026-03-24", previousDate: "2026-03-17", current: null, previous: null });
    expect(storage).toMatchObject({ metric: "storage", aggregate: "last", total: { current: 9_500, previous: null } });
  });

  it("reports sync health, delivery failures and files about to expire", () => {
    expect(report.sync.failedRuns).toEqual({ current: 2, previous: 1 });
    expect(report.sync.lanes[0]).toMatchObject({ stream: "files", lane: "new", lastSuccessAt: "2026-03-29T21:00:00.000000Z" });
    expect(report.deliveries).toEqual({ failedAttempts: { current: 3, previous: 0 }, deliveries: { current: 2, previous: 0 }, gaveUp: { current: 1, previous: 0 } });
    expect(report.expiring.files).toEqual({ current: 2, previous: 1 });
    expect(report.expiring.list[0]!.expiresAt).toBe("2026-03-30T20:00:00.000Z");
    expect(report.largestFiles.map((f) => f.state)).toEqual(["stored", "removed"]);
  });

  it("is deterministic: the same rows in any order give the same report, byte for byte", () => {
    const shuffled = dstRows();
    for (const key of Object.keys(shuffled) as (keyof WeeklyRows)[]) {
      const value = shuffled[key];
      if (Array.isArray(value) && key !== "largestFiles" && key !== "expiringFiles") value.reverse();
    }
    expect(JSON.stringify(compute(shuffled))).toBe(JSON.stringify(report));
  });

  it("writes a CSV whose totals are the report's", () => {
    const csv = parseCsv(renderCsv(report));
    expect(csv[0]).toEqual([...CSV_HEADER]);
    const find = (section: string, item: string, metric: string) => csv.find((r) => r[0] === section && r[1] === item && r[2] === metric);
    expect(find("totals", "week", "uploads")!.slice(4, 6)).toEqual(["19", "3"]);
    expect(find("storage", "week", "growth")!.slice(4, 6)).toEqual(["4900", "700"]);
    expect(find("days", "2026-03-29", "uploads")!.slice(4, 7)).toEqual(["15", "1", "previous: 2026-03-22; 23 h"]);
    expect(find("api_requests", "week", "errors")!.slice(4, 6)).toEqual(["3", "0"]);
    const dayRows = csv.filter((r) => r[0] === "days" && r[2] === "uploads");
    expect(dayRows.reduce((n, r) => n + Number(r[4]), 0)).toBe(report.totals.uploads.current);
  });

  it("says the week had 167 hours in the HTML and the text", () => {
    const html = renderHtml(report, { reportUrl: "https://ucledger.example/v1/reports/x" });
    const text = renderText(report, { reportUrl: "https://ucledger.example/v1/reports/x" });
    expect(html).toContain("The week had 167 hours");
    expect(text).toContain("The week had 167 hours");
    expect(html).toContain('src="cid:uploads@ucledger.report"');
    expect(html).toContain('href="https://ucledger.example/v1/reports/x"');
  });
});

describe("computeWeeklyReport on an empty week", () => {
  const report: WeeklyReport = compute(emptyRows({ key: "p-empty", name: "empty" }));

  it("reports zeros for every figure, 'not synced' for usage and empty lists", () => {
    expect(report.days).toHaveLength(7);
    for (const d of report.days) expect([d.uploads, d.uploadBytes, d.storageBytesAtEnd]).toEqual([{ current: 0, previous: 0 }, { current: 0, previous: 0 }, { current: 0, previous: 0 }]);
    expect(Object.values(report.totals).every((p) => p.current === 0 && p.previous === 0)).toBe(true);
    expect(report.usage).toEqual({ synced: false, metrics: [] });
    expect([report.mimeTypes, report.largestFiles, report.expiring.list, report.deletions.byActor, report.plans.byPlan, report.sync.lanes]).toEqual([[], [], [], [], [], []]);
  });

  it("still renders every form", () => {
    const text = renderText(report, { reportUrl: "http://x/v1/reports/y" });
    expect(text).toContain("Not synced");
    expect(text).toContain("No files were uploaded this week.");
    expect(renderHtml(report, { reportUrl: "http://x" })).toContain("Not synced");
    expect(parseCsv(renderCsv(report)).find((r) => r[0] === "usage")).toEqual(["usage", "week", "synced", "", "", "", "not synced"]);
  });
});

describe("computeWeeklyReport with many MIME types", () => {
  it("names the top ones and sums the rest as other", () => {
    const rows = emptyRows({ key: "p", name: "p" });
    rows.mimeTypes = Array.from({ length: 12 }, (_, i) => ({ week: "current" as const, mimeType: `type/${String(i).padStart(2, "0")}`, count: 1, bytes: 100 * (i + 1) }));
    const report = compute(rows);
    expect(report.mimeTypes).toHaveLength(MIME_TYPES_SHOWN);
    expect(report.mimeTypes[0]!.mimeType).toBe("type/11");
    expect(report.mimeTypes.at(-1)).toEqual({ mimeType: "other", files: { current: 5, previous: 0 }, bytes: { current: 1500, previous: 0 } });
    expect(report.mimeTypes.reduce((n, m) => n + m.bytes.current, 0)).toBe(7800);
  });
});

describe("CSV safety", () => {
  it("quotes commas and neutralizes formula-like text", () => {
    const rows = emptyRows({ key: "p", name: "p" });
    rows.largestFiles = [{ uuid: "u1", filename: '=HYPERLINK("x"), a.png', mimeType: "image/png", size: 1, uploadedAt: "2026-03-24T00:00:00.000000Z", storedAt: null, removedAt: null }];
    const csv = parseCsv(renderCsv(compute(rows)));
    const row = csv.find((r) => r[0] === "largest_files")!;
    expect(row[6]).toMatch(/^'=HYPERLINK\("x"\), a\.png; image\/png/);
    rows.deletions = [{ week: "current", actor: "=cmd|' /C calc'!A0", source: "action", count: 1, bytes: 1 }];
    const csv2 = parseCsv(renderCsv(compute(rows)));
    expect(csv2.find((r) => r[0] === "deletions" && r[2] === "files" && r[1] !== "week")![1]).toBe("'=cmd|' /C calc'!A0");
  });
});
