import { z } from "@hono/zod-openapi";
import { fileStats } from "../db/queries/stats.ts";
import { ValidationError } from "../errors.ts";
import type { ApiDeps, App } from "./app.ts";
import { resolveProjects } from "./listing.ts";
import { json, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { date, projectParam } from "./params.ts";

/** uploadsPerDay is one row per day: a year at most per request. */
export const MAX_STATS_DAYS = 366;
const DEFAULT_STATS_DAYS = 30;
const DAY_MS = 86_400_000;

const Tally = z.object({ count: z.number().int(), bytes: z.number().int() }).openapi("Tally");

const ProjectStatsSchema = z
  .object({
    projectKey: z.string(),
    files: Tally,
    byState: z
      .object({ stored: Tally, unstored: Tally, removed: Tally, missing: Tally })
      .openapi({ description: "stored, unstored and removed partition the files; missing (no longer listed upstream) overlaps them" }),
    byMimeType: z.array(Tally.extend({ mimeType: z.string() })).openapi({ description: "Most files first" }),
    uploadsPerDay: z.array(Tally.extend({ date: z.string() })).openapi({ description: "UTC days with at least one upload" }),
  })
  .openapi("ProjectStats");

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/stats/summary",
  tags: ["stats"],
  summary: "Counts and bytes by state and MIME type, and uploads per day, per project",
  description: `One pass over each project's files (hundreds of milliseconds per million files). uploadsPerDay covers from..to, at most ${MAX_STATS_DAYS} days; default the last ${DEFAULT_STATS_DAYS}.`,
  request: {
    query: z.strictObject({
      project: projectParam,
      from: date("First day of uploadsPerDay, inclusive (UTC)").optional(),
      to: date("Last day of uploadsPerDay, inclusive (UTC); default today").optional(),
    }),
  },
  responses: {
    200: json(
      z.object({ from: z.string(), to: z.string(), projects: z.array(ProjectStatsSchema) }).openapi("StatsSummary"),
      "Per-project figures",
    ),
    ...protectedErrors,
    ...notFoundError,
  },
});

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function registerStats(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const to = q.to ?? day(now().getTime());
    const from = q.from ?? day(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_STATS_DAYS - 1) * DAY_MS);
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
    if (span < 1) throw new ValidationError("from: must not be after to");
    if (span > MAX_STATS_DAYS) throw new ValidationError(`to: from..to may span at most ${MAX_STATS_DAYS} days`);
    const projects = await fileStats(db, { projects: await resolveProjects(db, q.project), from, to });
    return c.json({ from, to, projects }, 200);
  });
}
