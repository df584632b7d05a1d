import { sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";

/** Rows written before the first refresh. */
const FIRST_REFRESH_ROWS = 5_000;
/** Each later refresh waits until the table has grown by this share again. */
const GROWTH_FACTOR = 0.5;

/**
 * Keeps the planner's statistics in step with a bulk load. PGlite runs no
 * autovacuum and a server's lags a first sync: a table the planner still
 * believes empty gets sequential scans for each page's uuid lookup, which makes
 * a first sync quadratic. Refreshing at geometric steps costs a handful of
 * ANALYZE runs however large the project.
 */
export function createStatisticsKeeper(db: Db) {
  let sinceRefresh = 0;
  let threshold = FIRST_REFRESH_ROWS;
  let total = 0;
  return {
    async noteWritten(rows: number): Promise<void> {
      sinceRefresh += rows;
      total += rows;
      if (sinceRefresh < threshold) return;
      await db.execute(sql`analyze files, file_events`);
      sinceRefresh = 0;
      threshold = Math.max(FIRST_REFRESH_ROWS, Math.round(total * GROWTH_FACTOR));
    },
  };
}
