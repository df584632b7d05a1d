/**
 * `npm run bench:sync`: a complete first inventory (live and removed files) of
 * one sandbox project, three ways, against the same sandbox in one run:
 * ucledger's first sync, the script a user would write instead (the official
 * SDK's paginate + one drizzle upsert per page), and the SDK's paging alone (the
 * API-side floor). Each runs in its own process, so each peak RSS is its own;
 * each writer gets a fresh PostgreSQL database.
 *
 *   npm run bench:sync                                   both configurations of docs/benchmarks.md
 *   npm run bench:sync -- --files 200000 --latency-ms 0  one configuration
 *
 * After ucledger's first sync, 100 files are uploaded and a plain sync runs:
 * its time and list requests are printed too.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createBenchDatabase, spawnSandbox, type SandboxProcess } from "./support.ts";

const { values } = parseArgs({ options: { files: { type: "string" }, "latency-ms": { type: "string" } } });
const configs =
  values.files !== undefined
    ? [{ files: Number(values.files), latencyMs: Number(values["latency-ms"] ?? 0) }]
    : [
        { files: 200_000, latencyMs: 0 },
        { files: 1_000_000, latencyMs: 150 },
      ];

for (const config of configs) await runConfig(config.files, config.latencyMs);

async function runConfig(files: number, latencyMs: number): Promise<void> {
  const sandbox = await spawnSandbox(files, 4700 + Math.floor(Math.random() * 200), ["--latency-ms", String(latencyMs)]);
  try {
    console.log(`bench:sync — ${files.toLocaleString("en")} files, ${latencyMs} ms sandbox latency per request`);
    const floor = await contender("floor", sandbox);
    const naive = await contender("naive", sandbox);
    const ucledger = await contender("ucledger", sandbox, ["--incremental"]);
    const row = (name: string, r: Result) =>
      `  ${name.padEnd(34)} ${r.seconds.toFixed(1).padStart(7)} s  ${String(r.peakMb).padStart(5)} MB  ${String(r.files).padStart(9)} files`;
    console.log(row("SDK paging alone (floor)", floor));
    console.log(row("naive script (SDK + drizzle)", naive));
    console.log(row("ucledger first sync", ucledger));
    console.log(`  ucledger rows: ${ucledger.files} files, ${ucledger.events} audit events, ${ucledger.listed} files listed`);
    console.log(`  ratios: naive ÷ ucledger ${(naive.seconds / ucledger.seconds).toFixed(2)}x, ucledger ÷ floor ${(ucledger.seconds / floor.seconds).toFixed(2)}x`);
    const inc = ucledger.incremental;
    if (inc) console.log(`  incremental after 100 uploads: ${Math.round(inc.incrementalMs)} ms, ${inc.listRequests} list requests, ${inc.inserted} inserted`);
  } finally {
    sandbox.child.kill("SIGINT");
  }
}

interface Result {
  seconds: number;
  peakMb: number;
  files: number;
  events?: number;
  listed?: number;
  incremental?: { incrementalMs: number; listRequests: number; inserted: number };
}

/** Runs one contender in its own process on a fresh database; its JSON lines are its results. */
async function contender(name: string, sandbox: SandboxProcess, flags: string[] = []): Promise<Result> {
  const database = await createBenchDatabase(`ucledger_bench_${name}`);
  try {
    const args = JSON.stringify({ sandbox, databaseUrl: database.url });
    const child = spawn(process.execPath, ["--import", "tsx", new URL(`./sync-contenders/${name}.ts`, import.meta.url).pathname, args, ...flags], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let result: Result | null = null;
    for await (const line of createInterface({ input: child.stdout! })) {
      if (!line.startsWith("{")) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if ("seconds" in parsed) result = parsed as unknown as Result;
      else if (result) result.incremental = parsed as unknown as Result["incremental"];
    }
    const code = await exited;
    if (code !== 0 || !result) throw new Error(`bench contender ${name} exited with ${code}`);
    return result;
  } finally {
    await database.drop();
  }
}
