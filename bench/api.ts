// API benchmark: 1,000,000 files (plus events, API log rows, usage and runs)
// generated in SQL into a fresh database on the local PostgreSQL server, the
// API served from a child process, autocannon against the main routes (p50,
// p95, p99 from every response time), then a 1,000,000-row CSV export while
// the server's RSS is sampled. The database is dropped at the end.
// Run: npm run bench:api   (BENCH_FILES, BENCH_SECONDS, BENCH_CONNECTIONS override)
// Latency is measured with one client (the time a request takes), throughput
// with several; on a 2-core machine shared with other work both move with its load.
import autocannon from "autocannon";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { sql } from "drizzle-orm";
import { loadLedger } from "./ledger-data.ts";
import { serveApiChild, startApiChild } from "./support.ts";

const ADMIN_URL = process.env["BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const FILES = Number(process.env["BENCH_FILES"] ?? 1_000_000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 5);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 4);
const EVENTS = Math.round(FILES / 2);
const API_REQUESTS = Math.round(FILES / 5);

if (process.argv[2] === "--serve") await serveApiChild(process.argv[3]!);
else await main();

async function main(): Promise<void> {
  const { openDatabase } = await import("../src/db/client.ts");
  const { createToken } = await import("../src/db/queries/tokens.ts");
  const name = `ucl_bench_api_${Date.now()}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let child: ChildProcess | undefined;
  try {
    const database = await openDatabase({ url: url.toString() });
    const loadStarted = performance.now();
    await loadLedger(database.db, { files: FILES, events: EVENTS, apiRequests: API_REQUESTS });
    console.log(`loaded ${FILES.toLocaleString("en")} files, ${EVENTS.toLocaleString("en")} events, ${API_REQUESTS.toLocaleString("en")} API log rows in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
    const { token } = await createToken(database.db, { name: "bench", role: "admin", createdBy: "bench", now: new Date() });
    const sample = await database.db.execute(sql`select uuid::text as uuid from files where project_key = 'benchproj1' order by datetime_uploaded desc limit 1 offset ${Math.floor(FILES / 20)}`);
    const uuid = (sample as unknown as { rows: { uuid: string }[] }).rows[0]!.uuid;
    await database.close();

    const server = await startServer(url.toString());
    child = server.child;
    const base = `http://127.0.0.1:${server.port}`;
    const headers = { Authorization: `Bearer ${token}` };
    const deep = await deepCursor(base, headers);

    const routes: [string, string, number?][] = [
      ["files, newest, all projects", "/v1/files?limit=100"],
      ["files, one project", "/v1/files?project=benchproj1&limit=100"],
      ["files, deep page (cursor ~500k in)", `/v1/files?project=benchproj1&limit=100&cursor=${deep}`],
      ["files, mime=image/png", "/v1/files?project=benchproj1&mime=image/png&limit=100"],
      ["files, mime=image/ (prefix)", "/v1/files?project=benchproj1&mime=image/&limit=100"],
      ["files, removed=true", "/v1/files?project=benchproj1&removed=true&limit=100"],
      ["files, unstored", "/v1/files?project=benchproj1&stored=false&removed=false&limit=100"],
      ["files, missing=true", "/v1/files?missing=true&limit=100"],
      ["files, size range by size", "/v1/files?project=benchproj1&sizeMin=1000000&sizeMax=2000000&sort=size&order=asc&limit=100"],
      ["files, upload week", "/v1/files?project=benchproj1&uploadedFrom=2023-06-01T00:00:00Z&uploadedTo=2023-06-08T00:00:00Z&limit=100"],
      ["files, metadata source=web", "/v1/files?project=benchproj1&metadata=source%3Dweb&limit=100"],
      ["files, metadata user=u17 (rare)", "/v1/files?metadata=user%3Du17&limit=100"],
      ["files, appdata virus scan", "/v1/files?project=benchproj1&appdata=uc_clamav_virus_scan&limit=100"],
      ["files, count=exact (900k)", "/v1/files?project=benchproj1&count=exact&limit=100"],
      ["files, filename substring (scan)", "/v1/files?project=benchproj1&filename=sum%C3%A9&limit=100", 20],
      ["file by uuid", `/v1/files/${uuid}`],
      ["file events", `/v1/files/${uuid}/events`],
      ["events feed", "/v1/events?limit=100"],
      ["events, kind=removed", "/v1/events?project=benchproj1&kind=removed&limit=100"],
      ["api-logs, status=5xx", "/v1/api-logs?status=5xx&limit=100"],
      ["api-logs, errors first", "/v1/api-logs?project=benchproj1&order=errors_first&limit=100"],
      ["usage, one metric", "/v1/usage?project=benchproj1&metric=traffic&from=2024-01-01&to=2024-12-31"],
      ["sync runs", "/v1/sync/runs?limit=100"],
      ["stats summary, 100k-file project", "/v1/stats/summary?project=benchproj2", 30],
      ["stats summary, 1M files", "/v1/stats/summary", 10],
    ];
    console.log(`\nautocannon, ${SECONDS} s per route and mode (a fixed count where noted); latency in ms`);
    console.log(`${"".padEnd(38)} ${"1 client: latency".padStart(25)}   ${`${CONNECTIONS} clients: throughput`.padStart(28)}`);
    console.log(`${"route".padEnd(38)} ${"p50".padStart(7)} ${"p95".padStart(8)} ${"p99".padStart(8)}   ${"req/s".padStart(8)} ${"p50".padStart(8)} ${"p95".padStart(8)}`);
    for (const [title, path, amount] of routes) {
      const one = await cannon(`${base}${path}`, headers, 1, amount);
      const many = amount ? undefined : await cannon(`${base}${path}`, headers, CONNECTIONS);
      const bad = one.non2xx + (many?.non2xx ?? 0);
      console.log(
        `${title.padEnd(38)} ${one.p50.toFixed(1).padStart(7)} ${one.p95.toFixed(1).padStart(8)} ${one.p99.toFixed(1).padStart(8)}   ` +
          `${(many ? many.rps.toFixed(0) : "-").padStart(8)} ${(many ? many.p50.toFixed(1) : "-").padStart(8)} ${(many ? many.p95.toFixed(1) : "-").padStart(8)}` +
          (bad ? `  ${bad} non-2xx!` : ""),
      );
    }

    await exportRun(base, headers, child.pid!);
  } finally {
    child?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    console.log(`\ndropped ${name}`);
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function startServer(url: string): Promise<{ child: ChildProcess; port: number }> {
  return startApiChild(fileURLToPath(import.meta.url), url);
}

/**
 * A cursor about half-way through benchproj1: the first row uploaded before the
 * middle of the data set. Keyset pages cost the same wherever they start.
 */
async function deepCursor(base: string, headers: Record<string, string>): Promise<string> {
  const middle = new Date(Date.parse("2023-01-01T00:00:00Z") + (FILES / 2) * 60_000).toISOString();
  const res = await fetch(`${base}/v1/files?project=benchproj1&limit=1&count=none&uploadedTo=${middle}`, { headers });
  return ((await res.json()) as { nextCursor: string }).nextCursor;
}

async function cannon(url: string, headers: Record<string, string>, connections: number, amount?: number) {
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, headers, connections, duration: SECONDS, amount }, (err, res) => (err ? reject(err) : resolve(res)));
    // Every response time, for exact percentiles (autocannon's own summary has no p95).
    instance.on("response", (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.max(0, Math.ceil((p / 100) * times.length) - 1))] ?? NaN;
  return { rps: result.requests.average, p50: at(50), p95: at(95), p99: at(99), non2xx: result.non2xx };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Streams every file as CSV, reading and discarding, while sampling the server's RSS. */
async function exportRun(base: string, headers: Record<string, string>, pid: number): Promise<void> {
  const before = rssMb(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const started = performance.now();
  const res = await fetch(`${base}/v1/files?format=csv`, { headers });
  let bytes = 0;
  let lines = 0;
  let nextMark = 100_000;
  const marks: string[] = [];
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (const byte of value) if (byte === 10) lines += 1;
    if (lines >= nextMark) {
      marks.push(`${Math.round(nextMark / 1000)}k: ${rssMb(pid)} MB`);
      nextMark += 100_000;
    }
  }
  clearInterval(timer);
  peak = Math.max(peak, rssMb(pid));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\nCSV export of every file: ${res.status}, ${(lines - 1).toLocaleString("en")} lines after the header (filenames with newlines add lines), ` +
      `${(bytes / 1024 / 1024).toFixed(0)} MB in ${seconds.toFixed(1)} s (${Math.round(FILES / seconds).toLocaleString("en")} rows/s)`,
  );
  console.log(`server RSS: ${before} MB before, peak ${peak} MB during (sampled every 50 ms); by rows sent: ${marks.join(", ")}`);
}
