import { z } from "@hono/zod-openapi";
import { chunkStream, PARQUET_CONTENT_TYPE } from "../db/queries/export-parquet.ts";
import { EXPORT_VIEW_NAMES, readViewPage, viewColumns, type ViewRow } from "../db/queries/export-views.ts";
import { cpuPool } from "../workers/cpu-pool.ts";
import type { ApiDeps, App } from "./app.ts";
import { CONTENT_TYPES, exportStream, type Column } from "./export.ts";
import { resolveProjects } from "./listing.ts";
import { notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { projectParam } from "./params.ts";

const ExportParams = z.object({
  view: z
    .enum(EXPORT_VIEW_NAMES, { message: `must be one of ${EXPORT_VIEW_NAMES.join(", ")}` })
    .openapi({ param: { name: "view", in: "path" }, description: "A view of the reporting schema (see docs/analysts.md)" }),
});

const ExportQuery = z.strictObject({
  format: z.enum(["csv", "parquet"], { message: "must be csv or parquet" }).default("csv").openapi({ description: "Default csv" }),
  project: projectParam,
});

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/export/{view}",
  tags: ["reporting"],
  summary: "A whole reporting view as a CSV or Parquet file, for BI tools that prefer files",
  description:
    "Streamed in the view's key order a page at a time (Parquet: one row group per 20,000 rows), so any size is served in flat memory. Columns and types are those of the view; fct_daily_files is as fresh as the last refresh after a files sync.",
  request: { params: ExportParams, query: ExportQuery },
  responses: {
    200: {
      description: "The file",
      content: {
        "text/csv": { schema: z.string().openapi({ description: "RFC 4180 CSV with a header row" }) },
        [PARQUET_CONTENT_TYPE]: { schema: z.string().openapi({ format: "binary", description: "Apache Parquet" }) },
      },
    },
    ...protectedErrors,
    ...notFoundError,
  },
});

export function registerViewExports(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const { view } = c.req.valid("param");
    const { format, project } = c.req.valid("query");
    if (project !== undefined) await resolveProjects(db, project);
    const columns = await viewColumns(db, view);
    const requestId = c.get("requestId");
    const headers = { "Content-Disposition": `attachment; filename="${view}.${format}"`, "Cache-Control": "no-store" };
    if (format === "parquet") {
      // Read and encoded on a CPU worker: Parquet encoding would otherwise hold the event loop a row group at a time.
      const chunks = cpuPool().parquet(deps.database, { view, columns, project });
      const body = chunkStream(chunks, (err) => {
        const cause = (err as { cause?: unknown }).cause;
        deps.logger.error({ requestId, cause: cause instanceof Error ? cause.message : String((err as Error).message) }, "export failed mid-stream");
      });
      return c.body(body, 200, { ...headers, "Content-Type": PARQUET_CONTENT_TYPE });
    }
    const body = exportStream<ViewRow, string[]>({
      format: "csv",
      columns: columns.map((col): Column<ViewRow> => ({ name: col.name, value: (row) => row[col.name] })),
      page: (after, limit) => readViewPage(db, { view, columns, project, after, limit }),
      start: null,
      logger: deps.logger,
      requestId,
    });
    return c.body(body, 200, { ...headers, "Content-Type": CONTENT_TYPES.csv });
  });
}
