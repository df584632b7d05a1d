/**
 * `npm run bench:sync`: syncs 200,000 sandbox files into a fresh PostgreSQL
 * database and prints files per second and peak RSS, then loads the same rows
 * with plain COPY for comparison. The sandbox runs in its own process.
 */
import { pipeline } from "node:stream/promises";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import pg from "pg";
import { openDatabase } from "../src/db/client.ts";
import { registerProjects } from "../src/db/queries/projects.ts";
import { createLogger } from "../src/logger.ts";
import { syncFiles } from "../src/sync/files/sync-files.ts";
import { createUploadcareClient } from "../src/sync/uploadcare/create-client.ts";
import { createBenchDatabase, rssSampler, spawnSandbox } from "./support.ts";

const FILES = Number(process.env.BENCH_FILES ?? 200_000);

const sandbox = await spawnSandbox(FILES, 4700 + Math.floor(Math.random() * 200));
const target = await createBenchDatabase("ucledger_bench_sync");
const database = await openDatabase({ url: target.url });
try {
  await registerProjects(database.db, [{ projectKey: sandbox.publicKey, name: "bench", isDemo: false }]);
  const logger = createLogger("warn");
  const client = createUploadcareClient({ db: database.db, logger, project: { ...sandbox, apiBase: sandbox.url } });
  const now = () => new Date();

  const rss = rssSampler();
  const started = performance.now();
  const [run] = await syncFiles({ db: database.db, client, logger, now }, { lanes: ["new"] });
  const syncSeconds = (performance.now() - started) / 1000;
  const peakMb = rss.stop();
  if (run?.status !== "ok") throw new Error(`sync ended ${run?.status}: ${run?.error}`);

  const resync = performance.now();
  const [again] = await syncFiles({ db: database.db, client, logger, now }, { lanes: ["new"] });
  const resyncMs = performance.now() - resync;

  const counts = (await database.pool!.query("select (select count(*) from files) as files, (select count(*) from file_events) as events")).rows[0];
  const copyFiles = await copyTable(target.url, "files");
  const copyEvents = await copyTable(target.url, "file_events");

  console.log(`bench:sync — ${FILES.toLocaleString("en")} generated files; the new-files lane lists the ${run.seen.toLocaleString("en")} live ones`);
  console.log(`  sync (new-files lane, first run): ${syncSeconds.toFixed(1)} s, ${Math.round(run.seen / syncSeconds).toLocaleString("en")} files/s, ${run.pages} pages`);
  console.log(`  rows written: ${counts.files} files, ${counts.events} audit events`);
  console.log(`  peak RSS during sync: ${peakMb} MB`);
  console.log(`  second run (nothing new): ${Math.round(resyncMs)} ms, inserted ${again?.inserted}, changed ${again?.changed}`);
  console.log(`  plain COPY of the same files rows: ${copyFiles.toFixed(1)} s; with their audit events too: ${(copyFiles + copyEvents).toFixed(1)} s`);
  console.log(`  sync / COPY(files): ${(syncSeconds / copyFiles).toFixed(2)}x; sync / COPY(files + events): ${(syncSeconds / (copyFiles + copyEvents)).toFixed(2)}x`);
} finally {
  await database.close();
  await target.drop();
  sandbox.child.kill("SIGINT");
}

/**
 * Streams a table's rows out with COPY TO and into an empty twin with COPY FROM,
 * so the comparison loads exactly the rows the sync wrote, with the same indexes.
 */
async function copyTable(url: string, table: string): Promise<number> {
  const source = new pg.Client({ connectionString: url });
  const sink = new pg.Client({ connectionString: url });
  await source.connect();
  await sink.connect();
  try {
    await sink.query(`create table ${table}_copy (like ${table} including all)`);
    const started = performance.now();
    await pipeline(source.query(copyTo(`copy ${table} to stdout`)), sink.query(copyFrom(`copy ${table}_copy from stdin`)));
    return (performance.now() - started) / 1000;
  } finally {
    await source.end();
    await sink.end();
  }
}
