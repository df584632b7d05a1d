/**
 * `npm run bench:references`: loads BENCH_FILES files (default 1,000,000) into a fresh
 * PostgreSQL database, then times replacing a source's set of BENCH_REFS
 * references (default 100,000; bare UUIDs and CDN URLs with operations):
 * the first push, the same set again, a set with 1% dropped and 1% new, and
 * a refused 50% drop; then the reads that use the answer (the files filter,
 * the orphans figures of the weekly report), p50 of BENCH_RUNS.
 */
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { countFiles, listFiles } from "../src/db/queries/files.ts";
import { registerProjects } from "../src/db/queries/projects.ts";
import { weekPeriod } from "../src/reports/weekly/period.ts";
import { readOrphanRows } from "../src/reports/weekly/orphans-query.ts";
import { replaceReferences, type IncomingReference } from "../src/sync/references/replace.ts";
import { createBenchDatabase } from "./support.ts";

const FILES = Number(process.env.BENCH_FILES ?? 1_000_000);
const REFS = Number(process.env.BENCH_REFS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PROJECT = "bench-references";

const ms = (start: number) => Math.round(performance.now() - start);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const uuidOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const valueOf = (i: number) => (i % 2 === 0 ? uuidOf(i) : `https://ucarecdn.com/${uuidOf(i)}/-/resize/200x/-/format/webp/`);

async function* refs(from: number, to: number, skip: (i: number) => boolean = () => false): AsyncGenerator<IncomingReference> {
  for (let i = from; i < to; i++) if (!skip(i)) yield { ref: `orders/${i}`, value: valueOf(i) };
}

const target = await createBenchDatabase("ucledger_bench_references");
const database = await openDatabase({ url: target.url });
try {
  const db = database.db;
  await registerProjects(db, [{ projectKey: PROJECT, name: "bench", isDemo: false }]);
  let started = performance.now();
  await db.execute(sql`insert into files (project_key, uuid, datetime_uploaded, datetime_stored, size, mime_type, is_image, is_ready,
      original_filename, metadata, data, first_seen_at, updated_at)
    select ${PROJECT}, ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, u.at, u.at, 1000 + i % 5000, 'image/jpeg', true, true,
      'file-' || i, '{}', '{}', u.at, u.at
    from generate_series(0, ${FILES - 1}) i
    cross join lateral (select now() - interval '400 days' + (i::float8 / ${FILES}) * interval '365 days' as at) u`);
  const loadMs = ms(started);
  await db.execute(sql`vacuum analyze files`);

  // The clock moves a day per replacement so each snapshot has its own time.
  let day = 0;
  const deps = () => ({ db, now: () => new Date(Date.now() - (30 - day) * 86_400_000), settings: { maxDropShare: 0.1, cdnDomains: [], sources: [] } });
  const replace = async (label: string, references: AsyncGenerator<IncomingReference>) => {
    day += 1;
    const t = performance.now();
    try {
      const r = await replaceReferences(deps(), { projectKey: PROJECT, source: "app-db", kind: "push", references, force: false, actor: "bench" });
      return { label, ms: ms(t), added: r.added, removed: r.removed, size: r.size };
    } catch (err) {
      return { label, ms: ms(t), refused: (err as Error).message.slice(0, 60) };
    }
  };
  const results = [];
  results.push(await replace(`first push of ${REFS}`, refs(0, REFS)));
  results.push(await replace("the same set again", refs(0, REFS)));
  results.push(await replace("1% dropped, 1% new", refs(0, REFS + REFS / 100, (i) => i % 100 === 7)));
  results.push(await replace("a 50% drop (refused)", refs(0, REFS / 2)));
  await db.execute(sql`analyze`);

  const at = new Date().toISOString();
  const filter = { projects: [PROJECT], referenced: false, unreferencedForDays: 10, referenceAt: at };
  const time = async (fn: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    return Math.round(median(times) * 10) / 10;
  };
  const page = await time(() => listFiles(db, { filter, sort: "uploaded", direction: "desc", after: null, limit: 100 }));
  const plain = await time(() => listFiles(db, { filter: { projects: [PROJECT], referenceAt: at }, sort: "uploaded", direction: "desc", after: null, limit: 100 }));
  const referencedPage = await time(() => listFiles(db, { filter: { projects: [PROJECT], referenced: true, referenceAt: at }, sort: "uploaded", direction: "desc", after: null, limit: 100 }));
  // The same rare, old matches read oldest first: the first page is at the start of the index walk.
  const referencedOldest = await time(() => listFiles(db, { filter: { projects: [PROJECT], referenced: true, referenceAt: at }, sort: "uploaded", direction: "asc", after: null, limit: 100 }));
  const count = await time(() => countFiles(db, filter, "auto"));
  const week = weekPeriod("2026-W01", "UTC");
  const orphans = await time(() => readOrphanRows(db, { projectKey: PROJECT, current: week, previous: weekPeriod("2025-W52", "UTC") }));
  process.stdout.write(
    `${JSON.stringify({ files: FILES, refs: REFS, loadMs, replacements: results, p50Ms: { filesPageUnreferenced10Days: page, filesPageNoFilter: plain, filesPageReferenced: referencedPage, filesPageReferencedOldestFirst: referencedOldest, countAuto: count, weeklyOrphanFigures: orphans } }, null, 2)}\n`,
  );
} finally {
  await database.close();
  await target.drop();
}
