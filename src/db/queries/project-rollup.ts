import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { unreferencedFor } from "./reference-status.ts";

/**
 * Every project rolled up into one row: what the ledger holds, how it grew in
 * a week, Uploadcare's usage figures for that week, failed syncs and orphans.
 * One query answers all rows, and the totals are the sum of the rows (see
 * `rollupTotals`), so the page's bottom line always adds up.
 *
 * To add a column (a cost, say): a field in RollupFigures and in FIGURES, and
 * its expression in the select below (or a second query merged by project
 * key); `rollupTotals` then sums it like every other figure.
 */

export interface RollupWeek {
  /** Half-open `[start, end)` instants of the week (ISO). */
  start: string;
  end: string;
  /** The week's first and last local dates (YYYY-MM-DD), for the daily usage figures. */
  firstDate: string;
  lastDate: string;
}

/** The figures of one project, or of all together. Null: not known (no usage synced, no reference source). */
export interface RollupFigures {
  files: number;
  /** Files stored and not removed, and their bytes. */
  storedFiles: number;
  bytesStored: number;
  /** Bytes uploaded in the week, less bytes removed in it. */
  growthBytes: number;
  uploadsThisWeek: number;
  /** Uploadcare's daily figures summed over the week (Project API). */
  trafficBytes: number | null;
  operations: number | null;
  /** Sync runs started in the week that ended failed, partial, rate_limited or abandoned. */
  failedSyncs: number;
  /** Live files nothing references (docs/references.md); null while the project has no reference source. */
  orphans: number | null;
}

export interface RollupRow extends RollupFigures {
  projectKey: string;
  name: string;
  isDemo: boolean;
}

interface Row {
  project_key: string;
  name: string;
  is_demo: boolean;
  files: string | number;
  stored_files: string | number;
  bytes_stored: string | number;
  growth_bytes: string | number;
  uploads: string | number;
  traffic: string | number | null;
  operations: string | number | null;
  failed_syncs: string | number;
  orphans: string | number | null;
}

const FAILED_STATUSES = ["failed", "partial", "rate_limited", "abandoned"];

const num = (v: string | number) => Number(v);
const numOrNull = (v: string | number | null) => (v === null ? null : Number(v));

export async function projectRollup(db: Queryable, input: { week: RollupWeek; now: Date }): Promise<RollupRow[]> {
  const start = sql`${input.week.start}::timestamptz`;
  const end = sql`${input.week.end}::timestamptz`;
  const at = sql`${input.now.toISOString()}::timestamptz`;
  const rows = await queryRows<Row>(
    db,
    sql`select p.project_key, p.name, p.is_demo,
        coalesce(fs.files, 0) as files, coalesce(fs.stored_files, 0) as stored_files, coalesce(fs.bytes_stored, 0) as bytes_stored,
        coalesce(fs.uploaded_bytes, 0) - coalesce(fs.removed_bytes, 0) as growth_bytes, coalesce(fs.uploads, 0) as uploads,
        u.traffic, u.operations,
        (select count(*) from sync_runs r where r.project_key = p.project_key and r.started_at >= ${start} and r.started_at < ${end}
           and r.status = any(${sql.param(FAILED_STATUSES)}::text[])) as failed_syncs,
        case when exists (select 1 from reference_sources s where s.project_key = p.project_key)
          then (select count(*) from files f where f.project_key = p.project_key and f.datetime_removed is null and ${unreferencedFor("f", at, 0)})
        end as orphans
      from projects p
      left join lateral (
        select count(*) as files,
          count(*) filter (where f.datetime_stored is not null and f.datetime_removed is null) as stored_files,
          coalesce(sum(f.size) filter (where f.datetime_stored is not null and f.datetime_removed is null), 0) as bytes_stored,
          count(*) filter (where f.datetime_uploaded >= ${start} and f.datetime_uploaded < ${end}) as uploads,
          coalesce(sum(f.size) filter (where f.datetime_uploaded >= ${start} and f.datetime_uploaded < ${end}), 0) as uploaded_bytes,
          coalesce(sum(f.size) filter (where f.datetime_removed >= ${start} and f.datetime_removed < ${end}), 0) as removed_bytes
        from files f where f.project_key = p.project_key
      ) fs on true
      left join lateral (
        select sum(d.value) filter (where d.metric = 'traffic') as traffic, sum(d.value) filter (where d.metric = 'operations') as operations
        from usage_daily d where d.project_key = p.project_key and d.date >= ${input.week.firstDate}::date and d.date <= ${input.week.lastDate}::date
      ) u on true
      order by lower(p.name), p.project_key collate "C"`,
  );
  return rows.map((r) => ({
    projectKey: r.project_key,
    name: r.name,
    isDemo: r.is_demo,
    files: num(r.files),
    storedFiles: num(r.stored_files),
    bytesStored: num(r.bytes_stored),
    growthBytes: num(r.growth_bytes),
    uploadsThisWeek: num(r.uploads),
    trafficBytes: numOrNull(r.traffic),
    operations: numOrNull(r.operations),
    failedSyncs: num(r.failed_syncs),
    orphans: numOrNull(r.orphans),
  }));
}

/** Every figure of a row; TypeScript refuses this map until a new figure has its entry. */
const FIGURES: Record<keyof RollupFigures, true> = {
  files: true,
  storedFiles: true,
  bytesStored: true,
  growthBytes: true,
  uploadsThisWeek: true,
  trafficBytes: true,
  operations: true,
  failedSyncs: true,
  orphans: true,
};

/** The sum of every figure over the rows; a figure no row knows stays null. */
export function rollupTotals(rows: readonly RollupFigures[]): RollupFigures {
  const total: Record<string, number | null> = {};
  for (const key of Object.keys(FIGURES) as (keyof RollupFigures)[]) {
    const known = rows.map((r) => r[key]).filter((v): v is number => v !== null);
    total[key] = known.length === 0 && rows.length > 0 ? null : known.reduce((a, b) => a + b, 0);
  }
  return total as unknown as RollupFigures;
}
