import type { SQL } from "drizzle-orm";
import type { Queryable } from "./client.ts";

/**
 * Runs raw SQL and returns its rows. Both drivers answer `{ rows }`; the shared
 * query-builder type cannot say so, hence this one cast in one place.
 */
export async function queryRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Runs raw SQL for its effect and returns how many rows it touched. */
export async function execute(db: Queryable, query: SQL): Promise<number> {
  const result = (await db.execute(query)) as unknown as { rowCount?: number | null; affectedRows?: number };
  return result.rowCount ?? result.affectedRows ?? 0;
}
