/**
 * `npm run bench:analyst`: loads 1,000,000 files spread over a year into a fresh
 * PostgreSQL database (generate_series, no sync), builds the daily rollup, and
 * prints how long `reporting.fct_daily_files` takes to answer for that year
 * (p50 of several runs), with the refresh times beside it.
 * BENCH_FILES and BENCH_RUNS change the size and the number of runs.
 */
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { registerProjects } from "../src/db/queries/projects.ts";
import { refreshDailyRollup } from "../src/db/queries/rollup.ts";
import { queryRows } from "../src/db/query.ts";
import { dateToTimestamp } from "../src/db/timestamps.ts";
import { writeFiles } from "../src/sync/files/write-files.ts";
import type { FileRecord } from "../src/sync/files/file-record.ts";
import { createBenchDatabase } from "./support.ts";

const FILES = Number(process.env.BENCH_FILES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PROJECT = "bench-analyst";

const ms = (start: number) => Math.round(performance.now() - start);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const target = await createBenchDatabase("ucledger_bench_analyst");
const database = await openDatabase({ url: target.url });
try {
  const db = database.db;
  await registerProjects(db, [{ projectKey: PROJECT, name: "bench", isDemo: false }]);

  // A year of uploads ending now; four in five stored an hour later; one in ten of those removed a week after upload.
  let started = performance.now();
  await db.execute(sql`insert into files (project_key, uuid, datetime_uploaded, datetime_stored, datetime_removed, size, mime_type, is_image, is_ready,
      original_filename, metadata, data, first_seen_at, updated_at)
    select ${PROJECT}, md5('bench' || i)::uuid, u.at,
      case when i % 5 <> 0 and i % 50 <> 1 then u.at + interval '1 hour' end,
      case when i % 50 = 1 and u.at < now() - interval '7 days' then u.at + interval '7 days' end,
      (i::bigint * 7919) % 5000000 + 1000, case i % 3 when 0 then 'image/jpeg' when 1 then 'image/png' else 'application/pdf' end, i % 3 < 2, true,
      'file-' || i, '{}', jsonb_build_object('content_info', jsonb_build_object('image', jsonb_build_object('width', 800, 'height', 600))),
      u.at, u.at
    from generate_series(1, ${FILES}) i
    cross join lateral (select now() - interval '365 days' + (i::float8 / ${FILES}) * interval '365 days' as at) u`);
  const loadMs = ms(started);
  await db.execute(sql`vacuum analyze files`);

  started = performance.now();
  const full = await refreshDailyRollup(db, PROJECT, { full: true });
  const fullMs = ms(started);

  // What a sync page does: 1,000 new files with their audit events, then the refresh after it.
  const now = Date.now();
  const page: FileRecord[] = Array.from({ length: 1000 }, (_, i) => {
    const uuid = `ffffffff-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const uploaded = dateToTimestamp(new Date(now - (1000 - i) * 1000));
    return {
      uuid, datetimeUploaded: uploaded, datetimeStored: uploaded, datetimeRemoved: null, size: 1234, mimeType: "image/jpeg", isImage: true, isReady: true,
      originalFilename: `new-${i}.jpg`, originalFileUrl: null, metadata: {}, appdata: null, observedAt: dateToTimestamp(new Date(now)),
      data: {
        uuid, datetime_uploaded: uploaded, datetime_stored: uploaded, datetime_removed: null, size: 1234, mime_type: "image/jpeg",
        is_image: true, is_ready: true, original_filename: `new-${i}.jpg`, original_file_url: null, metadata: {},
      },
    };
  });
  await writeFiles(db, { projectKey: PROJECT, source: "sync", runId: null, actor: "ucledger:sync", now: () => new Date() }, page);
  started = performance.now();
  const touched = await refreshDailyRollup(db, PROJECT);
  const touchedMs = ms(started);
  started = performance.now();
  await refreshDailyRollup(db, PROJECT);
  const idleMs = ms(started);

  const yearQuery = sql`select * from reporting.fct_daily_files
    where project_key = ${PROJECT} and day > (now() at time zone 'UTC')::date - 365 order by day`;
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    started = performance.now();
    rows = (await queryRows(db, yearQuery)).length;
    if (i > 0) times.push(performance.now() - started); // the first run warms the cache
  }
  // For comparison: the same daily uploads and removals aggregated straight from files, once.
  started = performance.now();
  await queryRows(
    db,
    sql`select (m.at at time zone 'UTC')::date as day, count(*) filter (where m.what = 'u'), sum(f.size) filter (where m.what = 'u'),
          count(*) filter (where m.what = 's'), count(*) filter (where m.what = 'r'), sum(f.size) filter (where m.what = 'r')
        from files f cross join lateral (values (f.datetime_uploaded, 'u'), (f.datetime_stored, 's'), (f.datetime_removed, 'r')) m(at, what)
        where f.project_key = ${PROJECT} and m.at > now() - interval '365 days' group by 1 order by 1`,
  );
  const directMs = ms(started);
  const [check] = await queryRows<{ files: number; storage: number }>(
    db,
    sql`select (select count(*) from files where project_key = ${PROJECT} and datetime_removed is null)::bigint as files,
               (select storage_files_eod from reporting.fct_daily_files where project_key = ${PROJECT} order by day desc limit 1) as storage`,
  );

  const figures = {
    files: FILES,
    load_ms: loadMs,
    rollup_full_ms: fullMs,
    rollup_rows: (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from daily_file_rollup`))[0]!.n,
    refresh_after_1000_file_page_ms: touchedMs,
    refresh_days_recomputed: touched.days,
    refresh_with_nothing_new_ms: idleMs,
    fct_daily_files_year_rows: rows,
    fct_daily_files_year_p50_ms: Number(median(times).toFixed(2)),
    fct_daily_files_year_max_ms: Number(Math.max(...times).toFixed(2)),
    same_figures_straight_from_files_ms: directMs,
    runs: RUNS,
    storage_files_today_matches_files: Number(check!.storage) === Number(check!.files),
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  if (full.mode !== "full" || !figures.storage_files_today_matches_files) process.exitCode = 1;
} catch (err) {
  // A drizzle error's message holds the whole query and its parameters: print the driver's cause.
  const cause = (err as { cause?: unknown }).cause;
  process.stderr.write(`bench:analyst failed: ${cause instanceof Error ? cause.message : (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
  await target.drop();
}
