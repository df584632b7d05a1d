import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Db } from "./client.ts";
import * as schema from "./schema/index.ts";

/** A value COPY's text format can carry: strings as they are, JSON already serialized. */
export type CopyValue = string | number | boolean | null;

/** A connection of the server's pool, when `db` runs on one (PGlite: undefined). */
export function serverPool(db: Db): pg.Pool | undefined {
  const client = (db as unknown as { $client?: unknown }).$client;
  return client instanceof pg.Pool ? client : undefined;
}

/**
 * Runs `body` in one transaction on one pooled connection, handing it both the
 * raw client (for COPY, which drizzle cannot issue) and a drizzle view of the
 * same connection (for every ordinary statement), so both commit together.
 */
export async function withCopyTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient, tx: Db) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("begin");
    const tx = drizzle(client, { schema }) as unknown as Db;
    const result = await body(client, tx);
    await client.query("commit");
    return result;
  } catch (err) {
    await client.query("rollback").catch(() => {
      // A connection that cannot even roll back is not returned to the pool.
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Streams rows into `table` with `COPY … FROM STDIN` (text format) on `client`:
 * no SQL parameters to build, and PostgreSQL parses each value once.
 */
export async function copyRows(client: pg.PoolClient, table: string, columns: readonly string[], rows: Iterable<CopyValue[]>): Promise<void> {
  const sink = client.query(copyFrom(`copy ${table} (${columns.join(", ")}) from stdin`));
  await pipeline(Readable.from(encodeRows(rows)), sink);
}

/** Lines of COPY text, a few hundred rows to a chunk so the stream does not write row by row. */
function* encodeRows(rows: Iterable<CopyValue[]>): Generator<string> {
  let chunk = "";
  let count = 0;
  for (const row of rows) {
    chunk += row.map(encodeValue).join("\t") + "\n";
    if (++count === 256) {
      yield chunk;
      chunk = "";
      count = 0;
    }
  }
  if (chunk) yield chunk;
}

/** COPY text format: `\N` is NULL; backslash, tab, newline and carriage return are escaped. */
export function encodeValue(value: CopyValue): string {
  if (value === null) return "\\N";
  if (typeof value !== "string") return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, escapeChar) : value;
}

function escapeChar(ch: string): string {
  switch (ch) {
    case "\\":
      return "\\\\";
    case "\t":
      return "\\t";
    case "\n":
      return "\\n";
    default:
      return "\\r";
  }
}
