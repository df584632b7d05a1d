import type { SurfaceColumn } from "../db/queries/analyst.ts";
import type { ExportView } from "../db/queries/export-views.ts";

/**
 * Messages between the API's event loop and its CPU workers. Everything here
 * crosses a thread boundary by structured clone, so it is plain data only.
 */

/**
 * Where a worker reads from. On a PostgreSQL server the worker opens a small pool
 * of its own, so neither the reads nor their parsing touch the event loop. PGlite
 * is one connection in one process: the worker's queries travel back to the main
 * thread, which runs them on that connection and sends the rows over.
 */
export type WorkerDbTarget =
  | { kind: "server"; connection: ServerConnection }
  | { kind: "proxy" };

/** The pg pool settings a worker needs to reach the same database. Never logged. */
export interface ServerConnection {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  options?: string;
}

export type WorkerJob =
  /** With public keys: verified against the signed anchors, from the last verified one (see anchor-verify.ts). */
  | { type: "verify"; projectKey: string; publicKeys: string[] }
  | { type: "parquet"; view: ExportView; columns: SurfaceColumn[]; project?: string | undefined };

export type ToWorker =
  | { type: "start"; job: number; db: WorkerDbTarget; task: WorkerJob }
  /** Produce the next chunk of a streaming job (backpressure: one chunk per pull). */
  | { type: "pull"; job: number }
  | { type: "cancel"; job: number }
  | { type: "rows"; query: number; result?: ProxyResult; error?: string };

export type FromWorker =
  | { type: "query"; job: number; query: number; sql: string; params: unknown[]; method: "all" | "execute" }
  | { type: "done"; job: number; value: unknown }
  | { type: "chunk"; job: number; bytes: Uint8Array }
  | { type: "end"; job: number }
  /** The driver's message when there is one (a drizzle error's own message holds the query and its parameters). */
  | { type: "failed"; job: number; message: string };

export interface ProxyResult {
  rows: unknown[];
  rowCount: number | null;
}
