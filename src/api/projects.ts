import { z } from "@hono/zod-openapi";
import { countProjects, listProjectsPage, PROJECT_ORDER, type ProjectEntry } from "../db/queries/project-list.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { respondList } from "./listing.ts";
import { exportContent, listPage, protectedErrors, protectedRoute } from "./openapi.ts";
import { countParam, listParams } from "./params.ts";

const ProjectSchema = z
  .object({
    projectKey: z.string().openapi({ description: "Uploadcare public key" }),
    name: z.string(),
    isDemo: z.boolean().openapi({ description: "The built-in sandbox project of demo mode" }),
    addedAt: z.string(),
  })
  .openapi("Project");

const COLUMNS: Column<ProjectEntry>[] = [
  { name: "project_key", value: (p) => p.projectKey },
  { name: "name", value: (p) => p.name },
  { name: "is_demo", value: (p) => p.isDemo },
  { name: "added_at", value: (p) => p.addedAt },
];

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/projects",
  tags: ["projects"],
  summary: "The Uploadcare projects this ledger keeps",
  request: { query: z.strictObject({ count: countParam, ...listParams }) },
  responses: {
    200: { description: "A page of projects, or the export", content: { "application/json": { schema: listPage(ProjectSchema, "ProjectPage") }, ...exportContent } },
    ...protectedErrors,
  },
});

export function registerProjects(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    return respondList(
      c,
      deps,
      {
        scope: "projects",
        order: PROJECT_ORDER,
        columns: COLUMNS,
        page: (after, limit) => listProjectsPage(db, { after, limit }),
        count: (mode) => countProjects(db, mode),
      },
      q,
    );
  });
}
