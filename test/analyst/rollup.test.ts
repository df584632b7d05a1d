import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refreshDailyRollup } from "../../src/db/queries/rollup.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { DAY_MS, HOUR_MS, ago, uuidOf, writeSpecs, type FileSpec } from "./helpers.ts";

const P = "rollup-p";
const OTHER = "rollup-other";

interface DayRow {
  day: string;
  uploads: number;
  bytes_uploaded: number;
  stored: number;
  bytes_stored: number;
  removed: number;
  bytes_removed: number;
}

const utcDay = (ts: string | null) => (ts === null ? null : new Date(ts).toISOString().slice(0, 10));

/**
 * The rollup's definition computed in JavaScript from every file row: what it must equal.
 * Stores count on the day of the store time the ledger kept (`last_stored_at` keeps it
 * after Uploadcare clears `datetime_stored` on delete); `live` counts by `datetime_stored`
 * alone, the published meaning of fct_daily_files.stored.
 */
async function expectedDays(database: TestDatabase, projectKey: string, stores: "kept" | "live" = "kept"): Promise<DayRow[]> {
  const files = await queryRows<{ uploaded: string; stored: string | null; removed: string | null; size: number }>(
    database.db,
    stores === "kept"
      ? sql`select datetime_uploaded::text as uploaded, coalesce(datetime_stored, last_stored_at)::text as stored, datetime_removed::text as removed, size from files where project_key = ${projectKey}`
      : sql`select datetime_uploaded::text as uploaded, datetime_stored::text as stored, datetime_removed::text as removed, size from files where project_key = ${projectKey}`,
  );
  const days = new Map<string, DayRow>();
  const at = (day: string) => {
    let row = days.get(day);
    if (!row) days.set(day, (row = { day, uploads: 0, bytes_uploaded: 0, stored: 0, bytes_stored: 0, removed: 0, bytes_removed: 0 }));
    return row;
  };
  for (const f of files) {
    const u = at(utcDay(f.uploaded)!);
    u.uploads += 1;
    u.bytes_uploaded += f.size;
    if (f.stored) {
      const s = at(utcDay(f.stored)!);
      s.stored += 1;
      s.bytes_stored += f.size;
    }
    if (f.removed) {
      const r = at(utcDay(f.removed)!);
      r.removed += 1;
      r.bytes_removed += f.size;
    }
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

async function rollupDays(database: TestDatabase, projectKey: string): Promise<DayRow[]> {
  return queryRows<DayRow>(
    database.db,
    sql`select day::text, uploads, bytes_uploaded, stored, bytes_stored, removed, bytes_removed
        from daily_file_rollup where project_key = ${projectKey} order by day`,
  );
}

describe.each(backends)("daily file rollup on %s", (kind) => {
  let database: TestDatabase;
  const specs: FileSpec[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // Thirty files over ten days, two thirds stored an hour after upload.
    for (let i = 0; i < 30; i++) {
      const uploadedMs = (10 - i / 3) * DAY_MS + 5 * HOUR_MS;
      specs.push({ uuid: uuidOf(i, 1), uploaded: ago(uploadedMs), stored: i % 3 === 0 ? null : ago(uploadedMs - HOUR_MS), size: 1_000 + i * 97 });
    }
    await writeSpecs(database.db, P, specs);
    // Another project's files must not leak into this one's figures.
    await writeSpecs(database.db, OTHER, [{ uuid: uuidOf(1, 2), uploaded: ago(2 * DAY_MS), stored: ago(DAY_MS), size: 5 }]);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("builds the whole rollup on the first refresh, equal to an aggregate over files", async () => {
    const result = await refreshDailyRollup(database.db, P);
    expect(result.mode).toBe("full");
    const expected = await expectedDays(database, P);
    expect(expected.length).toBeGreaterThan(5);
    expect(await rollupDays(database, P)).toEqual(expected);
  });

  it("after uploads, stores and removals recomputes only the days they touched, and still equals the aggregate", async () => {
    const before = await rollupDays(database, P);
    await writeSpecs(database.db, P, [
      // New uploads today.
      { uuid: uuidOf(100, 1), uploaded: ago(2 * HOUR_MS), size: 777 },
      { uuid: uuidOf(101, 1), uploaded: ago(HOUR_MS), stored: ago(HOUR_MS / 2), size: 888 },
      // An old temporary file stored now.
      { ...specs[0]!, stored: ago(HOUR_MS / 4) },
      // Two stored files whose removal upstream was days ago, seen only now.
      { ...specs[1]!, removed: ago(4 * DAY_MS) },
      { ...specs[4]!, removed: ago(4 * DAY_MS + HOUR_MS) },
    ]);
    const result = await refreshDailyRollup(database.db, P);
    expect(result.mode).toBe("touched");
    // The store days the removals name (their counts stay), the removal day, today and the upload day of specs[0] at most.
    expect(result.days).toBeGreaterThanOrEqual(2);
    expect(result.days).toBeLessThanOrEqual(6);
    const after = await rollupDays(database, P);
    expect(after).toEqual(await expectedDays(database, P));
    expect(after).not.toEqual(before);
    const removalDay = utcDay(ago(4 * DAY_MS));
    expect(after.find((d) => d.day === removalDay)?.removed).toBeGreaterThanOrEqual(1);
  });

  it("follows a size change to every day the file counts on", async () => {
    const changed = { ...specs[7]!, size: 123_456 };
    await writeSpecs(database.db, P, [changed]);
    const result = await refreshDailyRollup(database.db, P);
    expect(result.mode).toBe("touched");
    expect(await rollupDays(database, P)).toEqual(await expectedDays(database, P));
  });

  it("does nothing when no event came since the last refresh", async () => {
    const rows = await rollupDays(database, P);
    const result = await refreshDailyRollup(database.db, P);
    expect(result).toMatchObject({ mode: "unchanged", days: 0 });
    expect(await rollupDays(database, P)).toEqual(rows);
  });

  it("heals rows written without events with since, and a full rebuild changes nothing after that", async () => {
    const day = utcDay(ago(6 * DAY_MS))!;
    await database.db.execute(sql`insert into files (project_key, uuid, datetime_uploaded, size, mime_type, original_filename, metadata, data, first_seen_at, updated_at)
      values (${P}, ${uuidOf(500, 1)}, ${`${day}T12:00:00Z`}::timestamptz, 4242, 'text/plain', 'bulk.txt', '{}', '{}', now(), now())`);
    expect((await refreshDailyRollup(database.db, P)).mode).toBe("unchanged");
    expect(await rollupDays(database, P)).not.toEqual(await expectedDays(database, P));

    expect((await refreshDailyRollup(database.db, P, { since: day })).mode).toBe("since");
    const healed = await rollupDays(database, P);
    expect(healed).toEqual(await expectedDays(database, P));
    expect((await refreshDailyRollup(database.db, P, { full: true })).mode).toBe("full");
    expect(await rollupDays(database, P)).toEqual(healed);
  });

  it("keeps every project apart, and fct_daily_files holds the running storage of files uploaded and not yet removed", async () => {
    await refreshDailyRollup(database.db, OTHER);
    expect(await rollupDays(database, OTHER)).toEqual(await expectedDays(database, OTHER));

    const files = await queryRows<{ uploaded: string; removed: string | null; size: number }>(
      database.db,
      sql`select datetime_uploaded::text as uploaded, datetime_removed::text as removed, size from files where project_key = ${P}`,
    );
    const facts = await queryRows<{ day: string; storage_files_eod: number; storage_bytes_eod: number; uploads: number }>(
      database.db,
      sql`select day::text, storage_files_eod, storage_bytes_eod, uploads from reporting.fct_daily_files where project_key = ${P} order by day`,
    );
    const today = new Date().toISOString().slice(0, 10);
    expect(facts.at(-1)?.day).toBe(today);
    // Dense: one row per day from the first upload to today.
    const first = Date.parse(`${facts[0]!.day}T00:00:00Z`);
    expect(facts).toHaveLength((Date.parse(`${today}T00:00:00Z`) - first) / DAY_MS + 1);
    for (const fact of facts) {
      const held = files.filter((f) => utcDay(f.uploaded)! <= fact.day && (f.removed === null || utcDay(f.removed)! > fact.day));
      expect({ day: fact.day, files: fact.storage_files_eod, bytes: fact.storage_bytes_eod }).toEqual({
        day: fact.day,
        files: held.length,
        bytes: held.reduce((sum, f) => sum + f.size, 0),
      });
    }
  });

  it("keeps a deleted file on the day it was stored in fct_daily_files_v2; fct_daily_files leaves it out, as published", async () => {
    const uuid = uuidOf(600, 1);
    const uploaded = ago(3 * DAY_MS);
    const stored = ago(3 * DAY_MS - HOUR_MS);
    await writeSpecs(database.db, P, [{ uuid, uploaded, stored, size: 50_000 }]);
    await refreshDailyRollup(database.db, P);
    const storeDay = utcDay(stored)!;
    const storedOn = async (view: "fct_daily_files" | "fct_daily_files_v2") =>
      (await queryRows<{ stored: number; bytes_stored: number }>(database.db, sql`select stored, bytes_stored from ${sql.raw(`reporting.${view}`)} where project_key = ${P} and day = ${storeDay}::date`))[0]!;
    const before = { v1: await storedOn("fct_daily_files"), v2: await storedOn("fct_daily_files_v2") };
    expect(before.v1).toEqual(before.v2);

    // Deleted today, as the sync records it: datetime_stored cleared, last_stored_at kept.
    await writeSpecs(database.db, P, [{ uuid, uploaded, stored, size: 50_000, removed: ago(HOUR_MS) }]);
    const [row] = await queryRows<{ stored: string | null; kept: string | null }>(
      database.db,
      sql`select datetime_stored::text as stored, last_stored_at::text as kept from files where project_key = ${P} and uuid = ${uuid}::uuid`,
    );
    expect(row).toEqual({ stored: null, kept: expect.any(String) });
    await refreshDailyRollup(database.db, P);
    expect(await rollupDays(database, P)).toEqual(await expectedDays(database, P, "kept"));

    expect(await storedOn("fct_daily_files_v2")).toEqual(before.v2);
    expect(await storedOn("fct_daily_files")).toEqual({ stored: before.v1.stored - 1, bytes_stored: before.v1.bytes_stored - 50_000 });
    // Every day of both, against the two definitions.
    const live = new Map((await expectedDays(database, P, "live")).map((d) => [d.day, d]));
    const kept = new Map((await expectedDays(database, P, "kept")).map((d) => [d.day, d]));
    const facts = await queryRows<{ day: string; stored: number; bytes_stored: number; stored_v2: number; bytes_stored_v2: number }>(
      database.db,
      sql`select v1.day::text, v1.stored, v1.bytes_stored, v2.stored as stored_v2, v2.bytes_stored as bytes_stored_v2
          from reporting.fct_daily_files v1 join reporting.fct_daily_files_v2 v2 using (project_key, day)
          where v1.project_key = ${P} order by v1.day`,
    );
    for (const f of facts) {
      expect([f.day, f.stored, f.bytes_stored]).toEqual([f.day, live.get(f.day)?.stored ?? 0, live.get(f.day)?.bytes_stored ?? 0]);
      expect([f.day, f.stored_v2, f.bytes_stored_v2]).toEqual([f.day, kept.get(f.day)?.stored ?? 0, kept.get(f.day)?.bytes_stored ?? 0]);
    }
  });

  it("is recounted by migration 0018 exactly as a full rebuild counts it", async () => {
    // The migration recounts every rollup in SQL of its own; it must agree with rollup.ts.
    const migration = readFileSync(new URL("../../migrations/0018_reporting_store_time.sql", import.meta.url), "utf8");
    const statements = migration
      .split("--> statement-breakpoint")
      .map((part) => part.split("\n").filter((line) => !line.startsWith("--")).join("\n").trim())
      .filter((statement) => /^(DELETE FROM|INSERT INTO) daily_file_rollup\b/.test(statement));
    expect(statements).toHaveLength(2);
    await refreshDailyRollup(database.db, P, { full: true });
    const rebuilt = await rollupDays(database, P);
    await database.db.execute(sql`update daily_file_rollup set stored = stored + 7 where project_key = ${P}`);
    for (const statement of statements) await database.db.execute(sql.raw(statement));
    expect(await rollupDays(database, P)).toEqual(rebuilt);
    expect(await rollupDays(database, OTHER)).toEqual(await expectedDays(database, OTHER));
  });

  it("refuses a project the ledger does not know", async () => {
    await expect(refreshDailyRollup(database.db, "no-such-project")).rejects.toThrow(/project no-such-project not found/);
  });
});
