import { sql, type SQL } from "drizzle-orm";
import { NotFoundError } from "../../errors.ts";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { describeReportingSurface, REPORTING_SCHEMA, type SurfaceColumn } from "./analyst.ts";

/**
 * The reporting views that can be exported as files, each with the columns that
 * order it uniquely. Exports page through a view by these keys (keyset paging),
 * so memory stays flat and each page is an index range read on the table below
 * (the keys are that table's primary key under view names). A new reporting view
 * needs its key here to be exportable; a test checks that none is missing.
 */
export const EXPORT_VIEWS = {
  dim_project: ["project_key"],
  dim_file: ["project_key", "file_uuid"],
  fct_file_event: ["project_key", "event_seq"],
  fct_daily_files: ["project_key", "day"],
  fct_usage_daily: ["project_key", "day", "metric"],
  fct_api_request: ["project_key", "requested_at", "request_id"],
  fct_sync_run: ["project_key", "run_id"],
  fct_plan_item: ["project_key", "plan_id", "item_seq"],
  dim_file_v2: ["project_key", "file_uuid"],
  fct_reference_snapshot: ["project_key", "snapshot_id"],
  dim_file_v3: ["project_key", "file_uuid"],
  fct_daily_files_v2: ["project_key", "day"],
  fct_cost_daily: ["project_key", "day"],
  fct_plan_item_v2: ["project_key", "plan_id", "item_seq"],
} as const satisfies Record<string, readonly string[]>;

export type ExportView = keyof typeof EXPORT_VIEWS;
export const EXPORT_VIEW_NAMES = Object.keys(EXPORT_VIEWS) as [ExportView, ...ExportView[]];

export function isExportView(name: string): name is ExportView {
  return Object.hasOwn(EXPORT_VIEWS, name);
}

export type ViewRow = Record<string, unknown>;

/** Rows per database round trip. */
export const VIEW_PAGE_ROWS = 5_000;

/** The view's columns in order, with their types, from the catalog. */
export async function viewColumns(db: Queryable, view: ExportView): Promise<SurfaceColumn[]> {
  const found = (await describeReportingSurface(db)).find((v) => v.name === view);
  if (!found) throw new NotFoundError("reporting view", view);
  return found.columns;
}

const relation = (view: ExportView) => sql`${sql.identifier(REPORTING_SCHEMA)}.${sql.identifier(view)}`;

/**
 * One page of a view in key order, after `after` (the key values of the last row
 * read; null for the first page). Optionally one project only.
 */
export async function readViewPage(
  db: Queryable,
  options: { view: ExportView; columns: SurfaceColumn[]; project?: string | undefined; after: string[] | null; limit: number },
): Promise<{ items: ViewRow[]; next: string[] | null }> {
  const keys = EXPORT_VIEWS[options.view];
  const typeOf = (name: string) => options.columns.find((c) => c.name === name)?.type ?? "text";
  const conditions: SQL[] = [];
  if (options.project !== undefined) conditions.push(sql`project_key = ${options.project}`);
  if (options.after !== null) {
    const after = options.after;
    // Key types come from the catalog, never from the caller.
    const values = keys.map((k, i) => sql`${after[i] ?? null}::${sql.raw(typeOf(k))}`);
    conditions.push(sql`(${sql.join(keys.map((k) => sql.identifier(k)), sql`, `)}) > (${sql.join(values, sql`, `)})`);
  }
  const where = conditions.length > 0 ? sql` where ${sql.join(conditions, sql` and `)}` : sql``;
  const order = sql.join(keys.map((k) => sql.identifier(k)), sql`, `);
  const items = await queryRows<ViewRow>(db, sql`select * from ${relation(options.view)}${where} order by ${order} limit ${options.limit}`);
  const last = items.at(-1);
  const next = items.length === options.limit && last ? keys.map((k) => String(last[k])) : null;
  return { items, next };
}

/** Every row of a view, a page at a time; the next page is read only when asked for. */
export async function* viewPages(
  db: Queryable,
  options: { view: ExportView; columns: SurfaceColumn[]; project?: string | undefined; pageRows?: number },
): AsyncGenerator<ViewRow[]> {
  let after: string[] | null = null;
  do {
    const page: { items: ViewRow[]; next: string[] | null } = await readViewPage(db, {
      ...options,
      after,
      limit: options.pageRows ?? VIEW_PAGE_ROWS,
    });
    if (page.items.length > 0) yield page.items;
    after = page.next;
  } while (after !== null);
}
