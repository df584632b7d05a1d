import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeReportingSurface, type SurfaceView } from "../../src/db/queries/analyst.ts";
import { EXPORT_VIEWS } from "../../src/db/queries/export-views.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

/**
 * The reporting surface as published: every view, its columns in order and their
 * types. BI dashboards and saved queries depend on exactly this. A change to an
 * existing view is a new versioned view (dim_file_v2) next to the old one, never
 * an edit of this file; a new view is added here on purpose.
 */
const PUBLISHED = JSON.parse(readFileSync(new URL("./reporting-surface.json", import.meta.url), "utf8")) as Record<string, string[]>;

function asPublished(views: SurfaceView[]): Record<string, string[]> {
  return Object.fromEntries(views.map((v) => [v.name, v.columns.map((c) => `${c.name} ${c.type}`)]));
}

/** What differs from the published surface, one line each, naming the fix. */
function surfaceChanges(published: Record<string, string[]>, live: Record<string, string[]>): string[] {
  const changes: string[] = [];
  for (const [view, columns] of Object.entries(published)) {
    const now = live[view];
    if (!now) changes.push(`reporting.${view} is gone: published views stay (add a versioned view beside it instead)`);
    else if (JSON.stringify(now) !== JSON.stringify(columns)) {
      const gone = columns.filter((c) => !now.includes(c));
      const added = now.filter((c) => !columns.includes(c));
      changes.push(`reporting.${view} changed (lost: ${gone.join(", ") || "none"}; gained: ${added.join(", ") || "none"}; or reordered): publish ${view}_v2 instead of editing`);
    }
  }
  for (const view of Object.keys(live)) {
    if (!published[view]) changes.push(`reporting.${view} is new: add it to test/analyst/reporting-surface.json`);
  }
  return changes;
}

describe.each(backends)("the reporting surface on %s", (kind) => {
  let database: TestDatabase;
  let views: SurfaceView[];
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    views = await describeReportingSurface(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("is exactly the published list of views, columns and types", () => {
    expect(views.map((v) => v.name)).toEqual([
      "dim_file",
      "dim_file_v2",
      "dim_file_v3",
      "dim_project",
      "fct_api_request",
      "fct_cost_daily",
      "fct_daily_files",
      "fct_daily_files_v2",
      "fct_file_event",
      "fct_plan_item",
      "fct_plan_item_v2",
      "fct_reference_snapshot",
      "fct_sync_run",
      "fct_usage_daily",
    ]);
    expect(surfaceChanges(PUBLISHED, asPublished(views))).toEqual([]);
  });

  it("fails when a view column is renamed, retyped or dropped", async () => {
    await database.db.execute(sql`alter view reporting.dim_file rename column state to file_state`);
    try {
      const changes = surfaceChanges(PUBLISHED, asPublished(await describeReportingSurface(database.db)));
      expect(changes).toEqual([
        "reporting.dim_file changed (lost: state text; gained: file_state text; or reordered): publish dim_file_v2 instead of editing",
      ]);
    } finally {
      await database.db.execute(sql`alter view reporting.dim_file rename column file_state to state`);
    }
    const retyped = { ...asPublished(views), fct_sync_run: asPublished(views).fct_sync_run!.map((c) => c.replace("pages integer", "pages bigint")) };
    expect(surfaceChanges(PUBLISHED, retyped)).toHaveLength(1);
    const { fct_usage_daily: _gone, ...dropped } = asPublished(views);
    expect(surfaceChanges(PUBLISHED, dropped)).toEqual([
      "reporting.fct_usage_daily is gone: published views stay (add a versioned view beside it instead)",
    ]);
  });

  it("describes every view and every column with a comment", () => {
    const missing = views.flatMap((v) => [
      ...(v.comment?.trim() ? [] : [v.name]),
      ...v.columns.filter((c) => !c.comment?.trim()).map((c) => `${v.name}.${c.name}`),
    ]);
    expect(missing).toEqual([]);
  });

  it("can export every view, keyed by columns it has, starting with project_key", () => {
    for (const view of views) {
      const keys = EXPORT_VIEWS[view.name as keyof typeof EXPORT_VIEWS] as readonly string[] | undefined;
      expect(keys, `${view.name} needs an export key in EXPORT_VIEWS`).toBeDefined();
      expect(keys![0]).toBe("project_key");
      for (const key of keys!) expect(view.columns.map((c) => c.name)).toContain(key);
    }
  });

  it("keys the rollup tables by project first", async () => {
    const rows = await queryRows<{ table_name: string; constraint_type: string; column_name: string }>(
      database.db,
      sql`select tc.table_name, tc.constraint_type, kcu.column_name
          from information_schema.table_constraints tc
          join information_schema.key_column_usage kcu
            on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema and kcu.ordinal_position = 1
          where tc.table_schema = 'public' and tc.constraint_type in ('PRIMARY KEY', 'UNIQUE') and tc.table_name like 'daily_file_rollup%'
          order by tc.table_name`,
    );
    expect(rows).toEqual([
      { table_name: "daily_file_rollup", constraint_type: "PRIMARY KEY", column_name: "project_key" },
      { table_name: "daily_file_rollup_state", constraint_type: "PRIMARY KEY", column_name: "project_key" },
    ]);
  });
});
