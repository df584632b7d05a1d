import { sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { refreshStatistics } from "../../db/statistics.ts";

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
      await refreshStatistics(db, ["files", "file_events"]);
      sinceRefresh = 0;
      threshold = Math.max(FIRST_REFRESH_ROWS, Math.round(total * GROWTH_FACTOR));
    },
    /**
     * At the end of a sync: a table never analyzed (a small first sync, below the
     * first step) or grown by a tenth since its last statistics gets them now, so
     * totals and plans never rest on defaults. A few rows into a large table wait
     * for the next step or autovacuum: ANALYZE samples 30,000 rows, too dear per run.
     */
    async finish(): Promise<void> {
      if (sinceRefresh === 0) return;
      const [row] = await queryRows<{ tuples: number }>(db, sql`select reltuples::float8 as tuples from pg_class where oid = 'files'::regclass`);
      const tuples = Number(row?.tuples ?? -1);
      if (tuples < 0 || sinceRefresh > tuples * 0.1) await refreshStatistics(db, ["files", "file_events"]);
      sinceRefresh = 0;
    },
  };
}
