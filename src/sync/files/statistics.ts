import { sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { refreshStatistics } from "../../db/statistics.ts";

/** Rows written before the first refresh. */
const FIRST_REFRESH_ROWS = 5_000;
/**
 * Each later refresh waits until the rows written have grown this many times
 * over: a handful of ANALYZE runs for any load (5,000, 20,000, 80,000, …). Each
 * samples 30,000 rows; at the earlier factor of 0.5 they took a third of the
 * database's time in a 200,000-file first sync.
 */
const GROWTH_FACTOR = 3;

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
      // `files` only: the load reads it (each page's current rows); the events are analyzed at the end.
      await refreshStatistics(db, ["files"]);
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
      if (total === 0) return;
      const rows = await queryRows<{ name: string; tuples: number }>(
        db,
        sql`select relname as name, reltuples::float8 as tuples from pg_class where oid in ('files'::regclass, 'file_events'::regclass)`,
      );
      const stale = (name: string, written: number) => {
        const tuples = Number(rows.find((r) => r.name === name)?.tuples ?? -1);
        return tuples < 0 || written > tuples * 0.1;
      };
      // Events are analyzed only here; files also during the load (sinceRefresh is what came after).
      await refreshStatistics(db, [...(stale("files", sinceRefresh) ? ["files"] : []), ...(stale("file_events", total) ? ["file_events"] : [])]);
      sinceRefresh = 0;
      total = 0;
    },
  };
}
