import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeWeeklyReport } from "../../src/reports/weekly/compute.ts";
import { weekPeriod } from "../../src/reports/weekly/period.ts";
import { readWeeklyRows } from "../../src/reports/weekly/query.ts";
import { renderCsv, renderHtml, renderText } from "../../src/reports/weekly/render.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { insertFiles, uuidOf } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

const DAY_MS = 86_400_000;

describe.each(backends)("the weekly report's orphans section on %s", (kind) => {
  let database: TestDatabase;
  const P = "rep-orphans";
  const NONE = "rep-orphans-none";
  // The week that ended most recently, so "this week" holds the drop made 3 days ago.
  const now = Date.now();
  const ago = (days: number) => new Date(now - days * DAY_MS);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const f = (n: number) => uuidOf(n, 61);
    await insertFiles(database.db, [
      ...[1, 2, 3, 4, 5].map((n) => ({ projectKey: P, uuid: f(n), uploaded: ago(200).toISOString(), size: n * 1000 })),
      { projectKey: P, uuid: f(6), uploaded: ago(200).toISOString(), size: 6000, removed: ago(50).toISOString() },
      { projectKey: NONE, uuid: f(7), uploaded: ago(200).toISOString() },
    ]);
    const push = (at: Date, uuids: string[], source = "app-db") =>
      replaceReferences(
        { db: database.db, now: () => at, settings: { maxDropShare: 1, cdnDomains: [], sources: [] } },
        {
          projectKey: P,
          source,
          kind: "push",
          references: (async function* () {
            for (const u of uuids) yield { ref: u, value: u };
          })(),
          force: true,
          actor: "test",
        },
      );
    await push(ago(120), [f(1), f(2), f(3)]); // f(4), f(5), f(6): unreferenced since 120 days ago
    await push(ago(40), [f(1), f(2)]); // f(3): since 40 days
    await push(ago(1), [f(1)]); // f(2): since yesterday
    await push(ago(121), [f(1)], "cms"); // a second source that last reported 10 days ago: stale by now (48 h)
    await push(ago(10), [f(1)], "cms");
  });
  afterAll(async () => {
    await database?.close();
  });

  async function reportFor(projectKey: string) {
    const week = new Date(now);
    const monday = new Date(Date.UTC(week.getUTCFullYear(), week.getUTCMonth(), week.getUTCDate() - ((week.getUTCDay() + 6) % 7)));
    const iso = isoWeek(monday);
    const current = weekPeriod(iso, "UTC");
    const previous = weekPeriod(isoWeek(new Date(monday.getTime() - 7 * DAY_MS)), "UTC");
    const rows = await readWeeklyRows(database.db, { projectKey, current, previous });
    return computeWeeklyReport({ rows, current, previous, generatedAt: new Date(now).toISOString() });
  }

  it("counts live unreferenced files and bytes by how long, and lists the sources with the stale one marked", async () => {
    const r = await reportFor(P);
    // f(2) (dropped yesterday by app-db) is held: cms went stale before that, so it may reference it.
    expect(r.orphans).toMatchObject({
      configured: true,
      files: 3,
      bytes: 3000 + 4000 + 5000,
      unreferenced30Days: { files: 3, bytes: 12_000 },
      unreferenced90Days: { files: 2, bytes: 9000 },
      heldByStaleSources: 1,
    });
    expect(r.orphans.sources.map((s) => [s.source, s.refs, s.stale])).toEqual([
      ["app-db", 1, false],
      ["cms", 1, true],
    ]);

    const text = renderText(r, { reportUrl: "http://x/r" });
    expect(text).toContain("Orphans (files nothing references)");
    expect(text).toMatch(/3 live file\(s\), 12(\.0)? kB, are referenced by no source/);
    expect(text).toContain("Stale source(s): cms.");
    const html = renderHtml(r, { reportUrl: "http://x/r" });
    expect(html).toContain("Orphans: files nothing references");
    expect(html).toContain("stale (expected every 48 h)");
    const csv = renderCsv(r).split("\r\n");
    expect(csv).toContainEqual(expect.stringMatching(/^orphans,now,files,files,3,,as of /));
    expect(csv).toContainEqual(expect.stringMatching(/^orphans,90_days_or_more,bytes,bytes,9000,,/));
    expect(csv).toContainEqual(expect.stringMatching(/^orphans,source cms,references,references,1,,push; last reported .*; stale$/));
  });

  it("says so when no reference source is configured", async () => {
    const r = await reportFor(NONE);
    expect(r.orphans).toMatchObject({ configured: false, files: 0, sources: [] });
    expect(renderText(r, { reportUrl: "http://x/r" })).toContain("No reference source is configured");
    expect(renderCsv(r)).toContain("orphans,now,configured,,,,no reference source configured");
  });
});

function isoWeek(monday: Date): string {
  const thursday = new Date(monday.getTime() + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week1 = new Date(jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * DAY_MS);
  return `${year}-W${String(1 + Math.round((monday.getTime() - week1.getTime()) / (7 * DAY_MS))).padStart(2, "0")}`;
}
