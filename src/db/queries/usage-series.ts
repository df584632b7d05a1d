import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type SortDirection, type Total } from "./keyset.ts";

export interface UsageFilter {
  projects: string[];
  metrics?: string[] | undefined;
  /** Inclusive dates, YYYY-MM-DD. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface UsagePoint {
  projectKey: string;
  date: string;
  metric: string;
  value: number;
  unit: string;
  fetchedAt: string;
}

interface UsageRow {
  project_key: string;
  date: string;
  metric: string;
  value: number | string;
  unit: string;
  fetched_at: string;
}

const COLUMNS = sql.raw(`project_key, date::text as date, metric, value, unit, ${isoColumn("fetched_at")}`);

/** By day, then metric: the primary key's order, so each project's branch is one index range. */
export function usageOrder(direction: SortDirection): KeysetOrder {
  return {
    lead: [{ expr: sql`usage_daily.date`, cast: "date", field: "date" }],
    tie: { expr: sql`usage_daily.metric`, cast: "text", field: "metric" },
    direction,
  };
}

function conditions(filter: UsageFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.metrics?.length) where.push(sql`metric = any(${sql.param(filter.metrics)}::text[])`);
  if (filter.from !== undefined) where.push(sql`date >= ${filter.from}::date`);
  if (filter.to !== undefined) where.push(sql`date <= ${filter.to}::date`);
  return where;
}

export async function listUsage(
  db: Queryable,
  query: { filter: UsageFilter; direction: SortDirection; after: KeysetPosition | null; limit: number },
): Promise<{ items: UsagePoint[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<UsageRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: sql`usage_daily`,
    where: conditions(query.filter),
    order: usageOrder(query.direction),
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return {
    items: page.rows.map((r) => ({
      projectKey: r.project_key,
      date: r.date,
      metric: r.metric,
      value: Number(r.value),
      unit: r.unit,
      fetchedAt: r.fetched_at,
    })),
    next: page.next,
  };
}

export async function countUsage(db: Queryable, filter: UsageFilter, mode: CountMode): Promise<Total> {
  return countRows(db, {
    from: sql`usage_daily`,
    where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}
