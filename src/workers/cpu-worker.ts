import { parentPort } from "node:worker_threads";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzleProxy } from "drizzle-orm/pg-proxy";
import pg from "pg";
import { verifyAgainstAnchors } from "../db/audit/anchor-verify.ts";
import { verifyChain } from "../db/audit/verify.ts";
// Imported for its side effect too: the same int8 parser as the main thread.
import type { Db } from "../db/client.ts";
import "../db/client.ts";
import { parquetChunks } from "../db/queries/export-parquet.ts";
import { viewPages } from "../db/queries/export-views.ts";
import * as schema from "../db/schema/index.ts";
import type { FromWorker, ProxyResult, ServerConnection, ToWorker, WorkerDbTarget, WorkerJob } from "./protocol.ts";

/**
 * A CPU worker: runs audit-chain verification (SHA-256 and canonical JSON per
 * event) and Parquet encoding off the API's event loop. It runs the very same
 * functions the CLI runs in-process (verifyChain, parquetChunks), only against a
 * database handle of its own, so their results cannot drift apart.
 */

const port = parentPort;
if (!port) throw new Error("cpu-worker.ts runs as a worker thread only");

const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

// ---- Database handles ------------------------------------------------------

/** One small pool per server database, shared by this worker's jobs. */
const serverDbs = new Map<string, Db>();

function serverDb(connection: ServerConnection): Db {
  const key = JSON.stringify(connection);
  let db = serverDbs.get(key);
  if (!db) {
    // Two connections: a verify and an export can read at once; idle ones close soon.
    const pool = new pg.Pool({ ...connection, max: 2, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
    pool.on("error", () => {});
    db = drizzlePg(pool, { schema }) as unknown as Db;
    serverDbs.set(key, db);
  }
  return db;
}

let nextQuery = 1;
const pendingQueries = new Map<number, { resolve(result: ProxyResult): void; reject(err: Error): void }>();

/** A drizzle handle whose queries the main thread runs on its own connection. */
function proxyDb(job: number): Db {
  return drizzleProxy(async (sqlText, params, method) => {
    const query = nextQuery++;
    const result = await new Promise<ProxyResult>((resolve, reject) => {
      pendingQueries.set(query, { resolve, reject });
      post({ type: "query", job, query, sql: sqlText, params, method: method === "all" ? "all" : "execute" });
    });
    // pg-proxy hands `rows` of an execute() straight back to the caller, who expects the
    // driver's result object ({ rows, rowCount }); query-builder reads want the rows.
    return method === "execute" ? { rows: result as never } : { rows: result.rows as never };
  }, { schema }) as unknown as Db;
}

function dbFor(target: WorkerDbTarget, job: number): Db {
  return target.kind === "server" ? serverDb(target.connection) : proxyDb(job);
}

// ---- Jobs ------------------------------------------------------------------

const streams = new Map<number, AsyncGenerator<Uint8Array>>();

function failure(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

async function start(job: number, db: Db, task: WorkerJob): Promise<void> {
  if (task.type === "verify") {
    try {
      // With keys the walk starts at the last verified anchor, so its cost follows the new events.
      const value =
        task.publicKeys.length > 0 ? await verifyAgainstAnchors(db, task.projectKey, { publicKeys: task.publicKeys }) : await verifyChain(db, task.projectKey);
      post({ type: "done", job, value });
    } catch (err) {
      post({ type: "failed", job, message: failure(err) });
    }
    return;
  }
  streams.set(job, parquetChunks(task.columns, viewPages(db, { view: task.view, columns: task.columns, project: task.project })));
}

async function pull(job: number): Promise<void> {
  const stream = streams.get(job);
  if (!stream) return post({ type: "failed", job, message: "no such stream" });
  try {
    const next = await stream.next();
    if (next.done) {
      streams.delete(job);
      post({ type: "end", job });
    } else {
      const bytes = next.value;
      // Chunks own their buffers (export-parquet copies each one out), so they move, not copy.
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
      post({ type: "chunk", job, bytes }, whole ? [bytes.buffer as ArrayBuffer] : []);
    }
  } catch (err) {
    streams.delete(job);
    post({ type: "failed", job, message: failure(err) });
  }
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "start":
      void start(message.job, dbFor(message.db, message.job), message.task);
      return;
    case "pull":
      void pull(message.job);
      return;
    case "cancel": {
      const stream = streams.get(message.job);
      streams.delete(message.job);
      void stream?.return(undefined).catch(() => {});
      return;
    }
    case "rows": {
      const pending = pendingQueries.get(message.query);
      pendingQueries.delete(message.query);
      if (!pending) return;
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.result!);
      return;
    }
  }
});
