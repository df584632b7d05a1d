// Does the API stay responsive while audit checks and Parquet exports run?
// Builds a 1,000,000-event hash chain (correct hashes, written by COPY) on the
// PostgreSQL server, serves the API from a child process, then for a fixed time
// runs 10 clients calling GET /v1/audit/verify and 8 exporting reporting.fct_file_event
// as Parquet, while /healthz is sampled throughout. Prints p50/p95/p99 of /healthz
// and the verify and export durations. Target: /healthz p95 under 100 ms.
//
//   npm run bench:audit
//   BENCH_EVENTS=200000 BENCH_SECONDS=60 npm run bench:audit
//   BENCH_KEEP=1 npm run bench:audit          # keep the database; prints its URL
//   BENCH_AUDIT_URL=postgres://… npm run bench:audit   # reuse a kept database
import type { ChildProcess } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import pg from "pg";
import copyStreams from "pg-copy-streams";
import { createBenchDatabase, serveApiChild, startApiChild } from "./support.ts";

const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 1_000_000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 120);
const VERIFY_CLIENTS = Number(process.env["BENCH_VERIFY_CLIENTS"] ?? 10);
const EXPORT_CLIENTS = Number(process.env["BENCH_EXPORT_CLIENTS"] ?? 8);
const HEALTH_INTERVAL_MS = 50;
const PROJECT = "benchaudit";
const VIEW = "fct_file_event";

if (process.argv[2] === "--serve") await serveApiChild(process.argv[3]!);
else await main();

async function main(): Promise<void> {
  const { openDatabase } = await import("../src/db/client.ts");
  const { createToken } = await import("../src/db/queries/tokens.ts");
  const reuse = process.env["BENCH_AUDIT_URL"];
  const created = reuse ? undefined : await createBenchDatabase("ucl_bench_audit");
  const url = reuse ?? created!.url;
  let child: ChildProcess | undefined;
  try {
    const database = await openDatabase({ url });
    if (!reuse) {
      const started = performance.now();
      await buildChain(database.pool!, EVENTS);
      console.log(`built a ${EVENTS.toLocaleString("en")}-event chain in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const { token } = await createToken(database.db, { name: `bench-${Date.now()}`, role: "admin", createdBy: "bench", now: new Date() });
    const head = (await database.db.execute(sql`select last_seq from audit_chain_heads where project_key = ${PROJECT}`)) as unknown as { rows: { last_seq: number }[] };
    await database.close();

    const server = await startServer(url);
    child = server.child;
    const base = `http://127.0.0.1:${server.port}`;
    const headers = { Authorization: `Bearer ${token}` };
    await fetch(`${base}/healthz`).then((r) => r.text());
    console.log(
      `chain of ${Number(head.rows[0]?.last_seq ?? 0).toLocaleString("en")} events; ${VERIFY_CLIENTS} verify clients, ${EXPORT_CLIENTS} Parquet export clients (${VIEW}), /healthz every ${HEALTH_INTERVAL_MS} ms, for ${SECONDS} s`,
    );
    console.log(`machine: ${availableParallelism()} cores, load average before ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    await load(base, headers);
    console.log(`load average after ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  } finally {
    child?.kill("SIGTERM");
    if (created && process.env["BENCH_KEEP"]) console.log(`kept ${created.url}`);
    else await created?.drop();
  }
}

// ---- The chain --------------------------------------------------------------

/** One realistic event: a file snapshot after, and before for changes. */
function benchEvent(i: number) {
  const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
  const kinds = ["uploaded", "stored", "metadata_changed", "removed"] as const;
  const kind = kinds[i % 4]!;
  const micros = String(i % 1_000_000).padStart(6, "0");
  const seconds = Math.floor(i / 1_000_000) + Math.floor(i / 100);
  const observedAt = new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString().replace(/\.\d+Z$/, `.${micros}Z`);
  const after = {
    uuid,
    size: 1000 + ((i * 7919) % 20_000_000),
    mime_type: i % 3 === 0 ? "image/jpeg" : "application/pdf",
    original_filename: i % 1000 === 1 ? `Résumé, "final"\nv${i}.pdf` : `photo_${i}.jpg`,
    datetime_stored: kind === "uploaded" ? null : observedAt,
    metadata: { source: ["web", "mobile", "api"][i % 3], user: `u${i % 5000}` },
  };
  const before = kind === "uploaded" ? null : { ...after, metadata: { user: `u${i % 5000}` } };
  return {
    fileUuid: uuid,
    kind,
    before,
    after,
    occurredAt: kind === "uploaded" ? null : observedAt,
    observedAt,
    source: "sync" as const,
    runId: null,
    planId: null,
    actor: "ucledger:sync",
  };
}

/** COPY text format: backslash, tab, newline and carriage return escaped; \N for null. */
function copyField(value: string | number | null): string {
  if (value === null) return "\\N";
  return String(value).replace(/[\\\t\n\r]/g, (ch) => (ch === "\\" ? "\\\\" : ch === "\t" ? "\\t" : ch === "\n" ? "\\n" : "\\r"));
}

/**
 * Events hashed with the chain's own eventHash, a batch at a time, and written by
 * COPY with the secondary indexes dropped (rebuilt after): minutes, not the hours
 * appendEvents would take for a million rows.
 */
async function buildChain(pool: pg.Pool, events: number): Promise<void> {
  const { eventHash, GENESIS_HASH } = await import("../src/db/audit/chain.ts");
  const client = await pool.connect();
  try {
    await client.query(`insert into projects (project_key, name) values ($1, 'bench audit')`, [PROJECT]);
    const indexes = await client.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'file_events' and indexname not like '%_pkey'`,
    );
    for (const ix of indexes.rows) await client.query(`drop index ${ix.indexname}`);
    let prevHash = GENESIS_HASH;
    let seq = 0;
    const batch = 20_000;
    const lines = async function* () {
      while (seq < events) {
        let text = "";
        const end = Math.min(events, seq + batch);
        while (seq < end) {
          seq += 1;
          const e = benchEvent(seq);
          const hash = eventHash(prevHash, PROJECT, seq, e);
          text += `${[PROJECT, seq, e.fileUuid, e.kind, e.before && JSON.stringify(e.before), JSON.stringify(e.after), e.occurredAt, e.observedAt, e.source, e.runId, e.planId, e.actor, prevHash, hash].map(copyField).join("\t")}\n`;
          prevHash = hash;
        }
        yield text;
        if (seq % 200_000 === 0) console.log(`  ${seq.toLocaleString("en")} events written`);
      }
    };
    const copy = client.query(
      copyStreams.from(
        `copy file_events (project_key, seq, file_uuid, kind, before, after, occurred_at, observed_at, source, run_id, plan_id, actor, prev_hash, hash) from stdin`,
      ),
    );
    await pipeline(Readable.from(lines()), copy);
    await client.query(`insert into audit_chain_heads (project_key, last_seq, last_hash) values ($1, $2, $3)`, [PROJECT, seq, prevHash]);
    for (const ix of indexes.rows) await client.query(ix.indexdef);
    await client.query("analyze file_events");
  } finally {
    client.release();
  }
}

// ---- The load ---------------------------------------------------------------

interface Outcome {
  ms: number;
  status: number;
  /** Finished (not cut short by the end of the run). */
  complete: boolean;
  bytes?: number;
  ok?: boolean;
}

async function load(base: string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + SECONDS * 1000;
  const stop = AbortSignal.timeout(SECONDS * 1000);
  const health: number[] = [];
  const healthFailures: number[] = [];
  const verifies: Outcome[] = [];
  const exports: Outcome[] = [];
  const pause = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, deadline - Date.now()))));

  const sampleHealth = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      try {
        const res = await fetch(`${base}/healthz`, { signal: stop });
        await res.text();
        (res.ok ? health : healthFailures).push(performance.now() - started);
      } catch {
        if (Date.now() < deadline) healthFailures.push(performance.now() - started);
      }
      await pause(HEALTH_INTERVAL_MS);
    }
  };

  const verifyClient = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      try {
        const res = await fetch(`${base}/v1/audit/verify?project=${PROJECT}`, { headers, signal: stop });
        const body = (await res.json()) as { ok?: boolean };
        verifies.push({ ms: performance.now() - started, status: res.status, complete: true, ok: body.ok });
        if (res.status === 503) await pause(Number(res.headers.get("retry-after") ?? 1) * 1000);
      } catch {
        verifies.push({ ms: performance.now() - started, status: 0, complete: false });
      }
    }
  };

  const exportClient = async (n: number) => {
    // Staggered starts, as real clients would not all arrive in one millisecond.
    await pause(n * 250);
    while (Date.now() < deadline) {
      const started = performance.now();
      let bytes = 0;
      let status = 0;
      try {
        const res = await fetch(`${base}/v1/export/${VIEW}?format=parquet&project=${PROJECT}`, { headers, signal: stop });
        status = res.status;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
        exports.push({ ms: performance.now() - started, status, complete: true, bytes });
      } catch {
        exports.push({ ms: performance.now() - started, status, complete: false, bytes });
      }
    }
  };

  await Promise.all([
    sampleHealth(),
    ...Array.from({ length: VERIFY_CLIENTS }, () => verifyClient()),
    ...Array.from({ length: EXPORT_CLIENTS }, (_, n) => exportClient(n)),
  ]);

  const q = percentiles(health);
  console.log(`\n/healthz: ${health.length} answers, ${healthFailures.length} failures`);
  console.log(`  p50 ${q.p50.toFixed(1)} ms   p95 ${q.p95.toFixed(1)} ms   p99 ${q.p99.toFixed(1)} ms   max ${q.max.toFixed(1)} ms   (target p95 < 100 ms: ${q.p95 < 100 ? "met" : "NOT met"})`);

  const done = verifies.filter((v) => v.complete && v.status === 200);
  const refused = verifies.filter((v) => v.status === 503);
  const v = percentiles(done.map((d) => d.ms));
  console.log(`\nGET /v1/audit/verify: ${done.length} finished (${done.filter((d) => d.ok).length} ok), ${refused.length} answered 503 with Retry-After, ${verifies.filter((x) => !x.complete).length} still running or waiting at the end`);
  if (done.length > 0) console.log(`  duration p50 ${(v.p50 / 1000).toFixed(1)} s   min ${(v.min / 1000).toFixed(1)} s   max ${(v.max / 1000).toFixed(1)} s`);
  const other = verifies.filter((x) => x.complete && x.status !== 200 && x.status !== 503);
  if (other.length > 0) console.log(`  other statuses: ${other.map((x) => x.status).join(", ")}`);

  const finished = exports.filter((e) => e.complete && e.status === 200);
  const e = percentiles(finished.map((d) => d.ms));
  const bytes = exports.reduce((n, x) => n + (x.bytes ?? 0), 0);
  console.log(`\nGET /v1/export/${VIEW}?format=parquet: ${finished.length} finished, ${exports.filter((x) => !x.complete).length} cut short at the end; ${(bytes / 1024 / 1024).toFixed(1)} MiB received in all`);
  if (finished.length > 0) console.log(`  duration p50 ${(e.p50 / 1000).toFixed(1)} s   min ${(e.min / 1000).toFixed(1)} s   max ${(e.max / 1000).toFixed(1)} s`);
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return { p50: at(50), p95: at(95), p99: at(99), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

function startServer(url: string): Promise<{ child: ChildProcess; port: number }> {
  return startApiChild(fileURLToPath(import.meta.url), url);
}
