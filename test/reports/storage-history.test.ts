import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readWeeklyReport } from "../../src/reports/weekly/build.ts";
import type { WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { renderHtml, renderText } from "../../src/reports/weekly/render.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { addFiles, addProject, nextUuid, type FileFixture } from "./support.ts";

/**
 * Uploadcare clears `datetime_stored` when a file is deleted. Ten stored files of
 * 1 MB (1,000,000 bytes: the report's units are decimal), four of them deleted in
 * the report's week: storage must go from 10 MB to 6 MB, and the week before must
 * read the same after the deletions as before them. Rows are written as the sync
 * writes them: a deleted file has `datetime_stored` null and `last_stored_at` set.
 */
const MB = 1_000_000;
const ZONE = "UTC";
const WEEK = "2026-W10"; // Monday 2 March 2026
const WEEK_BEFORE = "2026-W09"; // Monday 23 February 2026
const NOW = new Date("2026-03-20T00:00:00Z");
const DELETED = [0, 3, 6, 9];

/** Stored during the week before: nine over Monday to Saturday, the tenth on Sunday evening, three hours before the week ends. */
function storedFiles(): (FileFixture & { stored: string })[] {
  return Array.from({ length: 10 }, (_, i) => {
    const uploaded = i < 9 ? Date.parse("2026-02-23T00:00:00Z") + i * 16 * 3_600_000 : Date.parse("2026-03-01T20:00:00Z");
    return {
      uuid: nextUuid(),
      uploaded: new Date(uploaded).toISOString(),
      stored: new Date(uploaded + 3_600_000).toISOString(),
      size: MB,
      filename: `file-${i}.png`,
    };
  });
}

/** Every figure of the week before, as the report of a later week shows it. */
function previousColumn(r: WeeklyReport): unknown {
  const figures = { totals: r.totals, storage: r.storage, days: r.days, expiring: { files: r.expiring.files, bytes: r.expiring.bytes }, mimeTypes: r.mimeTypes, deletions: r.deletions };
  return JSON.parse(JSON.stringify(figures), (_key, value: unknown) =>
    value !== null && typeof value === "object" && Object.keys(value).length === 2 && "current" in value && "previous" in value ? (value as { previous: unknown }).previous : value,
  );
}

/** A report's figures, leaving out when it was read and what became of its files since (their removal time). */
function figuresOf(r: WeeklyReport): unknown {
  return { ...r, generatedAt: null, largestFiles: r.largestFiles.map((f) => [f.uuid, f.state, f.storedAt]) };
}

describe.each(backends)("weekly report storage across deletions on %s", (kind) => {
  let database: TestDatabase;
  const P = `storage-history-${kind}`;
  const files = storedFiles();
  const read = (week: string) => readWeeklyReport(database.db, { projectKey: P, week, timezone: ZONE, now: NOW });
  let before: { week: WeeklyReport; weekBefore: WeeklyReport };
  let after: { week: WeeklyReport; weekBefore: WeeklyReport };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await addProject(database.db, P);
    await addFiles(database.db, P, files);
    await database.db.execute(sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at)
      values (${P}, '2026-03-05', 'storage', ${9 * MB}, 'bytes', now())`);
    before = { week: await read(WEEK), weekBefore: await read(WEEK_BEFORE) };

    // Deleted on Wednesday of the report's week, the way the sync records it.
    for (const [n, i] of DELETED.entries()) {
      const f = files[i]!;
      await database.db.execute(sql`update files set datetime_stored = null, original_file_url = null,
          datetime_removed = ${`2026-03-04T10:0${n}:00Z`}::timestamptz, last_stored_at = ${f.stored}::timestamptz
        where project_key = ${P} and uuid = ${f.uuid}::uuid`);
    }
    after = { week: await read(WEEK), weekBefore: await read(WEEK_BEFORE) };
  });
  afterAll(async () => {
    await database?.close();
  });

  it("goes from 10 stored files and 10 MB at the week's start to 6 and 6 MB at its end: growth −4", () => {
    const { storage, totals, days } = after.week;
    expect(storage).toEqual({
      bytesAtStart: { current: 10 * MB, previous: 0 },
      bytesAtEnd: { current: 6 * MB, previous: 10 * MB },
      growthBytes: { current: -4 * MB, previous: 10 * MB },
      filesAtStart: { current: 10, previous: 0 },
      filesAtEnd: { current: 6, previous: 10 },
      growthFiles: { current: -4, previous: 10 },
    });
    expect(days.map((d) => d.storageBytesAtEnd.current / MB)).toEqual([10, 10, 6, 6, 6, 6, 6]);
    expect(days.map((d) => d.storageBytesAtEnd.previous / MB)).toEqual([2, 3, 5, 6, 8, 9, 10]);
    expect(totals.removed).toEqual({ current: 4, previous: 0 });
    expect(totals.removedBytes).toEqual({ current: 4 * MB, previous: 0 });
    expect(totals.stored).toEqual({ current: 0, previous: 10 });
    // Stored, then deleted: never an upload "left unstored", nor about to expire at the week's end.
    expect(totals.unstored).toEqual({ current: 0, previous: 0 });
    expect(after.week.expiring.files).toEqual({ current: 0, previous: 0 });
  });

  it("shows the week before the same after the deletions as before them", () => {
    expect(previousColumn(after.week)).toEqual(previousColumn(before.week));
    expect(figuresOf(after.weekBefore)).toEqual(figuresOf(before.weekBefore));
    expect(after.weekBefore.storage.bytesAtEnd.current).toBe(10 * MB);
    // The week's own largest files were stored when it ended, deleted or not since.
    expect(after.weekBefore.largestFiles.map((f) => f.state)).toEqual(Array(10).fill("stored"));
    expect(after.weekBefore.largestFiles.find((f) => f.uuid === files[9]!.uuid)?.storedAt).toBe(`${files[9]!.stored.slice(0, -1)}000Z`);
  });

  it("prints those figures in decimal megabytes, with notes on what each storage and removal figure counts", () => {
    const text = renderText(after.week, { reportUrl: "http://x/v1/reports/r" });
    expect(text).toMatch(/Stored at the start of the week +10\.0 MB +0 B +\+10\.0 MB/);
    expect(text).toMatch(/Stored at the end of the week +6\.00 MB +10\.0 MB +−4\.00 MB/);
    expect(text).toMatch(/Storage growth +−4\.00 MB +\+10\.0 MB +−14\.0 MB/);
    expect(text).toMatch(/Stored files at the start of the week +10 +0 +\+10/);
    expect(text).toMatch(/Stored files at the end of the week +6 +10 +−4/);
    expect(text).toMatch(/Files removed +4 +0 +\+4/);
    const flat = text.replace(/\s+/g, " ");
    expect(flat).toContain("Storage (stored at the start and end of the week, growth, stored files) is the ledger's own count");
    expect(flat).toContain('"Files removed" counts every file whose removal time');
    expect(flat).toContain('"Deletions in the audit trail" counts the removals the ledger recorded as events');
    expect(flat).toContain(`Uploadcare's usage figure "storage" is Uploadcare's own daily measurement`);

    const html = renderHtml(after.week, { reportUrl: "http://x/v1/reports/r" });
    expect(html).toContain("10.0 MB");
    expect(html).toContain("−4.00 MB");
    expect(html).toContain("is the ledger&#39;s own count");
    expect(html).toContain("&quot;Deletions in the audit trail&quot; counts");
    expect(html).toContain("Uploadcare&#39;s usage figure &quot;storage&quot;");
  });
});
