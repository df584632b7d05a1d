import { z } from "@hono/zod-openapi";
import { countUsage, listUsage, usageOrder, type UsageFilter, type UsagePoint } from "../db/queries/usage-series.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { exportContent, listPage, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { countParam, date, list, listParams, orderParam, projectParam, text } from "./params.ts";

const UsagePointSchema = z
  .object({
    projectKey: z.string(),
    date: z.string().openapi({ format: "date" }),
    metric: z.string().openapi({ example: "traffic" }),
    value: z.number(),
    unit: z.string().openapi({ example: "bytes" }),
    fetchedAt: z.string(),
  })
  .openapi("UsagePoint");

const USAGE_COLUMNS: Column<UsagePoint>[] = [
  { name: "project_key", value: (u) => u.projectKey },
  { name: "date", value: (u) => u.date },
  { name: "metric", value: (u) => u.metric },
  { name: "value", value: (u) => u.value },
  { name: "unit", value: (u) => u.unit },
  { name: "fetched_at", value: (u) => u.fetchedAt },
];

const UsageQuery = z.strictObject({
  project: projectParam,
  metric: list(text(100), "Metrics, comma-separated or repeated (traffic, storage, operations, …)").optional(),
  from: date("First day, inclusive (UTC)").optional(),
  to: date("Last day, inclusive (UTC)").optional(),
  order: orderParam.openapi({ description: "Default asc: oldest day first" }),
  count: countParam,
  ...listParams,
});

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/usage",
  tags: ["usage"],
  summary: "Daily usage series from Uploadcare's Project API, by project, metric and day",
  description: "One row per project, day and metric, ordered by day then metric.",
  request: { query: UsageQuery },
  responses: {
    200: { description: "A page of daily figures, or the export", content: { "application/json": { schema: listPage(UsagePointSchema, "UsagePage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

export function registerUsage(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const filter: UsageFilter = { projects: await resolveProjects(db, q.project), metrics: q.metric, from: q.from, to: q.to };
    const direction = q.order ?? "asc";
    return respondList(
      c,
      deps,
      {
        scope: `usage:${direction}`,
        order: usageOrder(direction),
        columns: USAGE_COLUMNS,
        page: (after, limit) => listUsage(db, { filter, direction, after, limit }),
        count: (mode) => countUsage(db, filter, mode),
      },
      q,
    );
  });
}
