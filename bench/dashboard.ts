// Dashboard benchmark: the same 1,000,000-file ledger as bench:api (plus a push
// reference source of 100,000 files, so the overview's orphan figures do real
// work), the app built in-process, and each page requested with a signed-in
// session cookie as a browser would. A page's time includes its in-process
// calls to the API. Prints p50/p95 over BENCH_RUNS requests per page; the
// overview is timed cold (a week not read yet) and warm (kept for a minute).
// Run: npm run bench:dashboard   (BENCH_FILES, BENCH_RUNS override)
import { sql } from "drizzle-orm";
import { createApp } from "../src/api/app.ts";
import { openDatabase } from "../src/db/client.ts";
import { createToken } from "../src/db/queries/tokens.ts";
import { silentLogger } from "../src/logger.ts";
import { replaceReferences } from "../src/sync/references/replace.ts";
import { loadLedger } from "./ledger-data.ts";
import { createBenchDatabase } from "./support.ts";

const FILES = Number(process.env["BENCH_FILES"] ?? 1_000_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 15);
const REFERENCED = Math.min(100_000, Math.round(FILES / 10));

const bench = await createBenchDatabase("ucl_bench_dash");
try {
  const database = await openDatabase({ url: bench.url, maxConnections: 10 });
  const started = performance.now();
  await loadLedger(database.db, { files: FILES, events: Math.round(FILES / 2), apiRequests: Math.round(FILES / 5) });
  const uuids = (await database.db.execute(
    sql`select uuid::text as uuid from files where project_key = 'benchproj1' order by datetime_uploaded desc limit ${REFERENCED}`,
  )) as unknown as { rows: { uuid: string }[] };
  async function* refs() {
    for (const [i, { uuid }] of uuids.rows.entries()) yield { ref: `orders/${i}`, value: i % 2 ? uuid : `https://ucarecdn.com/${uuid}/-/resize/200x/` };
  }
  await replaceReferences(
    { db: database.db, now: () => new Date(), settings: { maxDropShare: 0.1, cdnDomains: [], sources: [] } },
    { projectKey: "benchproj1", source: "app-db", kind: "push", references: refs(), force: false, actor: "bench" },
  );
  console.log(`loaded ${FILES.toLocaleString("en")} files and ${REFERENCED.toLocaleString("en")} references in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const { token } = await createToken(database.db, { name: "bench", role: "admin", createdBy: "bench", now: new Date() });
  const app = createApp({ database, logger: silentLogger, version: "bench", projects: [] });
  const cookie = `ucledger_session=${token}`;
  const sample = (await database.db.execute(sql`select uuid::text as uuid from files where project_key = 'benchproj1' limit 1`)) as unknown as { rows: { uuid: string }[] };
  const uuid = sample.rows[0]!.uuid;

  async function time(path: string): Promise<number> {
    const t = performance.now();
    const res = await app.request(path, { headers: { cookie } });
    const body = await res.text();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 300)}`);
    return ms;
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

  console.log(`\n${"page".padEnd(46)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)}`);
  const print = (title: string, xs: number[]) => console.log(`${title.padEnd(46)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 95).toFixed(1).padStart(8)}`);

  // Cold: every run asks a different week, so nothing is kept.
  const cold: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 8); i++) cold.push(await time(`/dashboard?project=benchproj1&week=2024-W${String(10 + i).padStart(2, "0")}`));
  print(`overview, ${Math.round(FILES * 0.9).toLocaleString("en")}-file project, cold week`, cold);
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await time("/dashboard?project=benchproj1&week=2024-W10"));
  print("overview, same week again (kept)", warm);

  const pages: [string, string][] = [
    ["files, all projects, newest", "/dashboard/files"],
    ["files, removed images", "/dashboard/files?project=benchproj1&state=removed&mime=image%2F"],
    ["files, unreferenced, largest", "/dashboard/files?project=benchproj1&referenced=false&sort=size"],
    ["file page (fields, references, timeline)", `/dashboard/files/benchproj1/${uuid}`],
    ["audit feed", "/dashboard/audit"],
    ["plans", "/dashboard/plans"],
    ["reports", "/dashboard/reports"],
    ["API log, errors first", "/dashboard/api-log"],
  ];
  for (const [title, path] of pages) {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) xs.push(await time(path));
    print(title, xs);
  }
  await database.close();
} finally {
  await bench.drop();
}
