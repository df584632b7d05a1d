import { z } from "@hono/zod-openapi";
import { countSyncRuns, listSyncRuns, SYNC_RUN_ORDER, type SyncRunEntry, type SyncRunFilter } from "../db/queries/sync-runs.ts";
import { RUN_STATUSES } from "../db/schema/index.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { claimManualRun, manualHolder, type ManualRun } from "../scheduler/exclusion.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { conflictError, exportContent, json, listPage, notFoundError, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";
import { bool, countParam, list, listParams, projectParam, text, timestamp } from "./params.ts";
import { SYNC_STREAMS } from "./sync-runner.ts";

const SyncRunSchema = z
  .object({
    projectKey: z.string(),
    id: z.string(),
    stream: z.string(),
    lane: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    status: z.string().openapi({ description: RUN_STATUSES.join(", ") }),
    pages: z.number().int(),
    seen: z.number().int(),
    inserted: z.number().int(),
    changed: z.number().int(),
    quarantined: z.number().int().openapi({ description: "Upstream records set aside in quarantine or stored escaped" }),
    error: z.string().nullable(),
  })
  .openapi("SyncRun");

const COLUMNS: Column<SyncRunEntry>[] = [
  { name: "project_key", value: (r) => r.projectKey },
  { name: "id", value: (r) => r.id },
  { name: "stream", value: (r) => r.stream },
  { name: "lane", value: (r) => r.lane },
  { name: "started_at", value: (r) => r.startedAt },
  { name: "finished_at", value: (r) => r.finishedAt },
  { name: "status", value: (r) => r.status },
  { name: "pages", value: (r) => r.pages },
  { name: "seen", value: (r) => r.seen },
  { name: "inserted", value: (r) => r.inserted },
  { name: "changed", value: (r) => r.changed },
  { name: "quarantined", value: (r) => r.quarantined },
  { name: "error", value: (r) => r.error },
];

const RunsQuery = z.strictObject({
  project: projectParam,
  stream: list(text(50), "Streams (files, usage), comma-separated or repeated").optional(),
  status: list(z.enum(RUN_STATUSES, { message: `must be one of ${RUN_STATUSES.join(", ")}` }), "Statuses, comma-separated or repeated").optional(),
  lane: list(text(50), "Lanes (webhooks, new, reconcile, usage), comma-separated or repeated").optional(),
  startedFrom: timestamp("Started at or after").optional(),
  startedTo: timestamp("Started before").optional(),
  count: countParam,
  ...listParams,
});

const runsRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/sync/runs",
  tags: ["sync"],
  summary: "Sync runs, newest first",
  description:
    "`abandoned`: the process running it stopped before finishing (killed, crashed); the next run of its stream, or the start-up " +
    "of an instance, closes it, and its counts are what it had committed when it stopped.",
  request: { query: RunsQuery },
  responses: {
    200: { description: "A page of runs, or the export", content: { "application/json": { schema: listPage(SyncRunSchema, "SyncRunPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

const StartBody = z
  .strictObject({
    project: text(200, "One project; default: every configured project").optional(),
    full: z.boolean().optional().openapi({ description: "files only: also run the reconciliation scan" }),
  })
  .openapi("SyncStart");

const Started = z
  .object({
    stream: z.enum(SYNC_STREAMS),
    projects: z.array(z.string()),
    full: z.boolean(),
    startedAt: z.string(),
    follow: z.string().openapi({ description: "GET this to watch the runs this started" }),
  })
  .openapi("SyncStarted");

const runRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/sync/{stream}/run",
  tags: ["sync"],
  summary: "Start a sync run now, in the background",
  description:
    "Answers 202 at once with a `follow` link (also in Location) listing the runs this started. " +
    "409 when a run of that stream is already going for one of the projects, scheduled or started by hand, here or on another " +
    "instance sharing the database; the message names its holder, and nothing is started. Also 409 when this server has no job " +
    "for the stream. `project` and `full` may come in the query or a JSON body (the body wins).",
  request: {
    params: z.object({ stream: z.enum(SYNC_STREAMS, { message: `must be one of ${SYNC_STREAMS.join(", ")}` }).openapi({ param: { name: "stream", in: "path" } }) }),
    query: z.strictObject({ project: projectParam, full: bool("files only: also run the reconciliation scan").optional() }),
    body: { content: { "application/json": { schema: StartBody } }, required: false },
  },
  responses: {
    202: json(Started, "Started"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("Already running, or this server cannot run the stream"),
    ...tooLargeError,
  },
});

export function registerSync(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());

  app.openapi(runsRoute, async (c) => {
    const q = c.req.valid("query");
    const filter: SyncRunFilter = {
      projects: await resolveProjects(db, q.project),
      streams: q.stream,
      statuses: q.status,
      lanes: q.lane,
      startedFrom: q.startedFrom,
      startedTo: q.startedTo,
    };
    return respondList(
      c,
      deps,
      {
        scope: "sync-runs",
        order: SYNC_RUN_ORDER,
        columns: COLUMNS,
        page: (after, limit) => listSyncRuns(db, { filter, after, limit }),
        count: (mode) => countSyncRuns(db, filter, mode),
      },
      q,
    );
  });

  app.openapi(runRoute, async (c) => {
    const { stream } = c.req.valid("param");
    const query = c.req.valid("query");
    const body = c.req.valid("json") as z.infer<typeof StartBody>;
    const project = body.project ?? query.project;
    const full = body.full ?? query.full ?? false;
    const runner = deps.sync;
    if (!runner || !runner.supports(stream)) {
      throw new ConflictError(`stream ${stream} cannot be run by this server: it has no job for it yet`);
    }
    if (full && stream !== "files") throw new ValidationError("full: only the files stream has a full scan");
    if (project !== undefined && !runner.projects.includes(project)) throw new NotFoundError("project", project);
    const targets = project !== undefined ? [project] : [...runner.projects];

    const startedAt = now();
    // Each run's claim is the check: taken atomically in the database, so two requests (or a request
    // and a scheduled slot) cannot both start. All or nothing: one refusal drops the claims already taken.
    const holder = manualHolder("api");
    const claimed: { projectKey: string; run: ManualRun }[] = [];
    const refused: string[] = [];
    for (const projectKey of targets) {
      const claim = await claimManualRun(db, deps.logger, { projectKey, stream, holder });
      if (claim.kind === "claimed") claimed.push({ projectKey, run: claim });
      else refused.push(claim.message);
    }
    if (refused.length > 0) {
      for (const { run } of claimed) await run.drop(`not started: ${refused.join("; ")}`);
      throw new ConflictError(refused.join("; "));
    }

    for (const { projectKey, run } of claimed) void runner.start(stream, projectKey, { full }, run);
    const from = startedAt.toISOString();
    const follow = `/v1/sync/runs?stream=${stream}${project !== undefined ? `&project=${encodeURIComponent(project)}` : ""}&startedFrom=${encodeURIComponent(from)}`;
    c.header("Location", follow);
    return c.json({ stream, projects: targets, full, startedAt: from, follow }, 202);
  });
}
