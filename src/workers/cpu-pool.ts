import type { AnchoredReport } from "../db/audit/anchor-verify.ts";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import pg from "pg";
import type { ChainReport } from "../db/audit/verify.ts";
import type { Database } from "../db/client.ts";
import type { SurfaceColumn } from "../db/queries/analyst.ts";
import type { ExportView } from "../db/queries/export-views.ts";
import type { FromWorker, ProxyResult, ServerConnection, ToWorker, WorkerDbTarget, WorkerJob } from "./protocol.ts";

/**
 * The API's CPU workers: audit verification and Parquet encoding run here so the
 * event loop stays free for every other request (/healthz among them). At most
 * one worker per spare core (at least one); jobs go to the least busy worker and
 * interleave there. Workers start on first use and never keep the process alive.
 */

export type WorkerDatabase = Pick<Database, "db" | "kind">;

/** Types drizzle's drivers leave as text (date, timestamp, timestamptz, interval), as every query module expects. */
const RAW_TEXT_TYPES = new Set([1082, 1114, 1184, 1186]);

const WORKER_ENTRY = new URL("./tsx-entry.mjs", import.meta.url);
const WORKER_MODULE = new URL("./cpu-worker.ts", import.meta.url).href;

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, 4));
}

interface JobHandle {
  database: WorkerDatabase;
  onMessage(message: FromWorker): void;
  onCrash(err: Error): void;
}

interface WorkerSlot {
  worker: Worker;
  jobs: Map<number, JobHandle>;
}

export class CpuPool {
  private readonly slots: WorkerSlot[] = [];
  private nextJob = 1;

  constructor(readonly size: number = defaultWorkerCount()) {}

  /**
   * verifyChain on a worker: the same report, none of the hashing on the event
   * loop. Given the anchors' public keys, verifyAgainstAnchors instead.
   */
  async verify(database: WorkerDatabase, projectKey: string, publicKeys: string[] = []): Promise<ChainReport | AnchoredReport> {
    return new Promise<ChainReport | AnchoredReport>((resolve, reject) => {
      const { slot, job } = this.startJob(database, { type: "verify", projectKey, publicKeys }, {
        database,
        onMessage: (message) => {
          if (message.type === "done") resolve(message.value as ChainReport | AnchoredReport);
          else if (message.type === "failed") reject(new Error(message.message));
          else return;
          slot.jobs.delete(job);
        },
        onCrash: reject,
      });
    });
  }

  /** A view as Parquet chunks, read and encoded on a worker; the next chunk is made only when asked for. */
  async *parquet(
    database: WorkerDatabase,
    options: { view: ExportView; columns: SurfaceColumn[]; project?: string | undefined },
  ): AsyncGenerator<Uint8Array> {
    let waiting: { resolve(message: FromWorker): void; reject(err: Error): void } | undefined;
    // A worker lost between two pulls would never answer the next one: remember why.
    let crashed: Error | undefined;
    const { slot, job } = this.startJob(database, { type: "parquet", ...options }, {
      database,
      onMessage: (message) => waiting?.resolve(message),
      onCrash: (err) => {
        crashed = err;
        waiting?.reject(err);
      },
    });
    let finished = false;
    try {
      for (;;) {
        const message = await new Promise<FromWorker>((resolve, reject) => {
          if (crashed) return reject(crashed);
          waiting = { resolve, reject };
          this.send(slot, { type: "pull", job });
        });
        if (message.type === "chunk") yield message.bytes;
        else if (message.type === "end") {
          finished = true;
          return;
        } else if (message.type === "failed") {
          finished = true;
          throw new Error(message.message);
        }
      }
    } finally {
      slot.jobs.delete(job);
      if (!finished) this.send(slot, { type: "cancel", job });
    }
  }

  /** Workers started and jobs in flight on them. */
  stats(): { workers: number; jobs: number } {
    return { workers: this.slots.length, jobs: this.slots.reduce((n, s) => n + s.jobs.size, 0) };
  }

  /** Stops every worker (tests, shutdown); the pool starts new ones on next use. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private startJob(database: WorkerDatabase, task: WorkerJob, handle: JobHandle): { slot: WorkerSlot; job: number } {
    const slot = this.pick();
    const job = this.nextJob++;
    slot.jobs.set(job, handle);
    this.send(slot, { type: "start", job, db: targetOf(database), task });
    return { slot, job };
  }

  private pick(): WorkerSlot {
    const idle = this.slots.find((s) => s.jobs.size === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.spawn();
    return this.slots.reduce((least, s) => (s.jobs.size < least.jobs.size ? s : least));
  }

  private spawn(): WorkerSlot {
    // Workers run the TypeScript sources through tsx, as `npm start` and the CLI do.
    const worker = new Worker(WORKER_ENTRY, { workerData: { entry: WORKER_MODULE } });
    worker.unref();
    const slot: WorkerSlot = { worker, jobs: new Map() };
    worker.on("message", (message: FromWorker) => {
      if (message.type === "query") void this.runProxied(slot, message);
      else slot.jobs.get(message.job)?.onMessage(message);
    });
    const crash = (err: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const handle of slot.jobs.values()) handle.onCrash(err);
      slot.jobs.clear();
    };
    worker.on("error", crash);
    worker.on("exit", (code) => crash(new Error(`CPU worker exited (code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private send(slot: WorkerSlot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  /** Runs a worker's query on this thread's connection (PGlite) and sends the rows back. */
  private async runProxied(slot: WorkerSlot, message: Extract<FromWorker, { type: "query" }>): Promise<void> {
    const handle = slot.jobs.get(message.job);
    try {
      if (!handle) throw new Error("the job has ended");
      const result = await runRaw(handle.database, message.sql, message.params, message.method);
      this.send(slot, { type: "rows", query: message.query, result });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      this.send(slot, { type: "rows", query: message.query, error: cause instanceof Error ? cause.message : (err as Error).message });
    }
  }
}

interface RawClient {
  query(...args: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null; affectedRows?: number }>;
  options?: Record<string, unknown>;
}

function clientOf(database: WorkerDatabase): RawClient {
  return (database.db as unknown as { $client: RawClient }).$client;
}

/** A server database is reached by the worker's own pool; PGlite through this thread. */
function targetOf(database: WorkerDatabase): WorkerDbTarget {
  if (database.kind !== "postgres") return { kind: "proxy" };
  const options = clientOf(database).options ?? {};
  const connection: ServerConnection = {};
  for (const key of ["connectionString", "host", "user", "password", "database", "options"] as const) {
    if (typeof options[key] === "string") connection[key] = options[key];
  }
  if (typeof options.port === "number") connection.port = options.port;
  // A client without connection settings to copy (not a pool): its queries come through this thread.
  if (!connection.connectionString && !connection.host) return { kind: "proxy" };
  return { kind: "server", connection };
}

/** The query as drizzle's own driver would run it: same parsers, same row shapes. */
async function runRaw(database: WorkerDatabase, text: string, params: unknown[], method: "all" | "execute"): Promise<ProxyResult> {
  const rowMode = method === "all" ? "array" : "object";
  const client = clientOf(database);
  const result =
    database.kind === "pglite"
      ? await client.query(text, params, { rowMode, parsers: Object.fromEntries([...RAW_TEXT_TYPES].map((t) => [t, (v: string) => v])) })
      : await client.query({
          text,
          values: params,
          ...(rowMode === "array" ? { rowMode } : {}),
          types: { getTypeParser: (oid: number, format: string) => (RAW_TEXT_TYPES.has(oid) ? (v: string) => v : pgTypeParser(oid, format)) },
        });
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? null };
}

const pgTypeParser = (oid: number, format: string) => pg.types.getTypeParser(oid, format as "text");

/** The API's pool: one per process, started lazily. */
let shared: CpuPool | undefined;
export function cpuPool(): CpuPool {
  shared ??= new CpuPool();
  return shared;
}
