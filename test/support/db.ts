import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database, type DatabaseKind } from "../../src/db/client.ts";

/**
 * Database tests run on every backend available: embedded PGlite always, and the
 * PostgreSQL server named by TEST_DATABASE_URL when it is set (CI sets it).
 * Each call makes a fresh, migrated database of its own.
 */
const serverUrl = process.env.TEST_DATABASE_URL;

export const backends: DatabaseKind[] = serverUrl ? ["pglite", "postgres"] : ["pglite"];

export interface TestDatabase extends Database {
  /** The server URL of this test's own database (postgres only). */
  url: string | undefined;
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const database = await openDatabase({});
    return { ...database, url: undefined };
  }
  if (!serverUrl) throw new Error("TEST_DATABASE_URL is not set: cannot create a postgres test database");
  const name = `ucledger_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), maxConnections: 5 });
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
