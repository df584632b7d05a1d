import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import * as schema from "./schema/index.ts";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.ts";
import { ConfigError } from "../errors.ts";

export type Schema = typeof schema;
/** The query builder both backends share. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handed to `db.transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Anything queries can run on. */
export type Queryable = Db | Tx;
export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** The pg pool on a server, for COPY and session-level work; undefined on PGlite. */
  pool: pg.Pool | undefined;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Serializes migrations when several instances start against one server at once. */
const MIGRATION_LOCK_ID = 0x75636c65; // "ucle"

// bigint (int8) columns come back as strings by default; the ledger's bigints
// (sizes, sequence numbers) stay far below 2^53, so numbers are safe and simpler.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface OpenDatabaseOptions {
  /** A postgres:// URL; without one, embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; with neither url nor dataDir, PGlite runs in memory. */
  dataDir?: string | undefined;
  /** Apply migrations on open (default true). */
  migrate?: boolean;
  /** Pool size on a server. */
  maxConnections?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const database = options.url ? await openServer(options.url, options.maxConnections ?? 10) : await openEmbedded(options.dataDir);
  if (options.migrate !== false) {
    try {
      await applyMigrations(database);
    } catch (err) {
      await database.close();
      throw err;
    }
  }
  return database;
}

async function openServer(url: string, max: number): Promise<Database> {
  // Every session in UTC, so microsecond timestamps read back in one canonical form.
  const pool = new pg.Pool({ connectionString: url, max, options: "-c TimeZone=UTC" });
  // An idle client losing its connection must not crash the process.
  pool.on("error", () => {});
  const client = await pool.connect();
  client.release();
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return { db, kind: "postgres", pool, close: () => pool.end() };
}

async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  let lock: DataDirLock | undefined;
  let pglite: PGlite;
  if (dataDir) {
    lock = lockDataDir(dataDir);
    try {
      pglite = await PGlite.create({ dataDir: join(dataDir, "pgdata") });
    } catch (err) {
      lock.release();
      throw err;
    }
  } else {
    pglite = await PGlite.create();
  }
  await pglite.exec("SET TIME ZONE 'UTC'");
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    pool: undefined,
    async close() {
      try {
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/**
 * Applies pending migrations over `url` (the schema owner's, UCLEDGER_MIGRATE_DATABASE_URL)
 * on a connection of its own, then closes it: the service's own pool may then be
 * a role that cannot change the schema (docs/security.md).
 */
export async function migrateDatabase(url: string): Promise<void> {
  const database = await openServer(url, 1);
  try {
    await applyMigrations(database);
  } finally {
    await database.close();
  }
}

async function applyMigrations(database: Database): Promise<void> {
  if (database.kind === "pglite") {
    await migratePglite(database.db as never, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  const client = await database.pool!.connect();
  try {
    // Nothing pending (the owner migrated already): no DDL and no lock, so a
    // service role without schema privileges starts like any other.
    if ((await pendingMigrations(client)) === 0) return;
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
    try {
      await migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_DIR }).catch((err: unknown) => {
        throw refusedMigration(err) ?? err;
      });
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

/** How many migrations the database has not applied, by drizzle's own rule (creation time of the last one applied). */
async function pendingMigrations(client: pg.PoolClient): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  const { rows } = await client.query<{ present: boolean }>(
    `select exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'drizzle' and c.relname = '__drizzle_migrations') as present`,
  );
  if (!rows[0]?.present) return migrations.length;
  const last = await client.query<{ at: string | null }>("select max(created_at)::text as at from drizzle.__drizzle_migrations");
  const lastAt = Number(last.rows[0]?.at ?? 0);
  return migrations.filter((m) => m.folderMillis > lastAt).length;
}

/** A migration refused for want of privileges names the remedy instead of the bare SQL error. */
function refusedMigration(err: unknown): ConfigError | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  if ((e.cause?.code ?? e.code) !== "42501") return undefined;
  return new ConfigError(
    "DATABASE_URL: this database user may not change the schema, and migrations are pending: set UCLEDGER_MIGRATE_DATABASE_URL to the owner's URL, or run `ucledger migrate` as the owner (docs/security.md, Roles and least privilege)",
  );
}
