import { sql } from "drizzle-orm";
import type { Queryable } from "./client.ts";

/**
 * Refreshes the planner's statistics of the tables named (ANALYZE). PGlite
 * runs no autovacuum, and a server's lags behind a bulk load, so without this
 * the planner works from defaults: plans go wrong and estimated totals are
 * invented (`countHonestly` refuses to show them). Call it after a sync run
 * or a bulk load that wrote rows; on a few thousand rows it takes
 * milliseconds, and ANALYZE samples at most 30,000 rows per table whatever
 * its size.
 */
export async function refreshStatistics(db: Queryable, tables: readonly string[]): Promise<void> {
  const names = [...new Set(tables)].filter((t) => /^[a-z_][a-z0-9_]*$/.test(t));
  if (names.length === 0) return;
  // Names come from code, never from input, and are checked above: identifiers cannot be bound parameters.
  await db.execute(sql.raw(`analyze ${names.join(", ")}`));
}
