import { z } from "@hono/zod-openapi";
import type { AnchoredReport } from "../db/audit/anchor-verify.ts";
import type { ChainReport } from "../db/audit/verify.ts";
import { countEvents, eventOrder, listEvents, type AuditEvent, type EventFilter } from "../db/queries/events.ts";
import { EVENT_KINDS, EVENT_SOURCES } from "../db/schema/index.ts";
import { cpuPool } from "../workers/cpu-pool.ts";
import { BoundedQueue, QueueFullError } from "../workers/verify-queue.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { projectOfFile } from "./files.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { conflictError, exportContent, json, listPage, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { countParam, list, listParams, orderParam, projectParam, text, timestamp, uuid } from "./params.ts";

const Json = z.record(z.string(), z.unknown()).nullable();

const EventSchema = z
  .object({
    projectKey: z.string(),
    seq: z.number().int().openapi({ description: "Position in the project's hash chain: 1, 2, 3, …" }),
    fileUuid: z.string().nullable(),
    kind: z.string().openapi({ example: "stored" }),
    before: Json,
    after: Json,
    occurredAt: z.string().nullable().openapi({ description: "When it happened upstream, when Uploadcare says so" }),
    observedAt: z.string(),
    source: z.string(),
    runId: z.string().nullable(),
    planId: z.string().nullable(),
    actor: z.string(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi("AuditEvent");

const EVENT_COLUMNS: Column<AuditEvent>[] = [
  { name: "project_key", value: (e) => e.projectKey },
  { name: "seq", value: (e) => e.seq },
  { name: "file_uuid", value: (e) => e.fileUuid },
  { name: "kind", value: (e) => e.kind },
  { name: "before", value: (e) => e.before },
  { name: "after", value: (e) => e.after },
  { name: "occurred_at", value: (e) => e.occurredAt },
  { name: "observed_at", value: (e) => e.observedAt },
  { name: "source", value: (e) => e.source },
  { name: "run_id", value: (e) => e.runId },
  { name: "plan_id", value: (e) => e.planId },
  { name: "actor", value: (e) => e.actor },
  { name: "prev_hash", value: (e) => e.prevHash },
  { name: "hash", value: (e) => e.hash },
];

const page = {
  200: { description: "A page of events, or the export", content: { "application/json": { schema: listPage(EventSchema, "AuditEventPage") }, ...exportContent } },
};

const EventsQuery = z.strictObject({
  project: projectParam,
  kind: list(z.enum(EVENT_KINDS, { message: `must be one of ${EVENT_KINDS.join(", ")}` }), "Event kinds, comma-separated or repeated").optional(),
  source: list(z.enum(EVENT_SOURCES, { message: `must be one of ${EVENT_SOURCES.join(", ")}` }), "Sources, comma-separated or repeated").optional(),
  actor: text(200, "Exact actor, e.g. ucledger:sync").optional(),
  from: timestamp("Observed at or after").optional(),
  to: timestamp("Observed before").optional(),
  order: orderParam.openapi({ description: "Default desc: newest first" }),
  count: countParam,
  ...listParams,
});

const feedRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/events",
  tags: ["audit"],
  summary: "The audit feed: every recorded change, filtered and keyset-paged; or export it",
  description: "Ordered by observation time, then chain position, across projects.",
  request: { query: EventsQuery },
  responses: { ...page, ...protectedErrors, ...notFoundError },
});

const FileEventsQuery = z.strictObject({
  project: projectParam.openapi({ description: "Needed only when several projects hold this uuid" }),
  order: orderParam.openapi({ description: "Default asc: oldest first" }),
  count: countParam,
  ...listParams,
});

const fileRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/files/{uuid}/events",
  tags: ["audit", "files"],
  summary: "One file's audit trail",
  request: { params: z.object({ uuid: uuid.openapi({ param: { name: "uuid", in: "path" } }) }), query: FileEventsQuery },
  responses: { ...page, ...protectedErrors, ...notFoundError, ...conflictError("Several projects hold this uuid: pass project") },
});

const ChainReportSchema = z
  .object({
    projectKey: z.string(),
    ok: z.boolean(),
    events: z.number().int(),
    broken: z.object({ seq: z.number().int(), reason: z.string() }).nullable(),
    legacyHashed: z
      .object({ events: z.number().int(), firstSeq: z.number().int() })
      .optional()
      .openapi({ description: "Links hashed before keys named __proto__ were covered, accepted because their hash matches without those keys" }),
    walkedFrom: z.number().int().optional().openapi({ description: "With anchors: the verified anchor the walk went on from (0: genesis)" }),
    anchors: z
      .object({
        database: z.number().int(),
        signaturesChecked: z.boolean(),
        latest: z.object({ seq: z.number().int(), hash: z.string(), takenAt: z.string() }).nullable(),
      })
      .optional()
      .openapi({ description: "Present when the deployment has anchor keys: how many anchors were checked, and the newest that holds" }),
    problems: z
      .array(z.object({ kind: z.string(), seq: z.number().int(), message: z.string() }))
      .optional()
      .openapi({ description: "What disagrees with the anchors: truncated, wiped, hash_mismatch, event_missing, bad_signature, unknown_key" }),
  })
  .openapi("ChainReport");

/** One project's answer, whether the check ran against anchors or the chain alone. */
function toChainResponse(report: ChainReport | AnchoredReport): z.infer<typeof ChainReportSchema> {
  if (!("chain" in report)) return report;
  return {
    ...report.chain,
    ok: report.ok,
    walkedFrom: report.walkedFrom,
    anchors: { database: report.anchors.database, signaturesChecked: report.anchors.signaturesChecked, latest: report.anchors.latest },
    problems: report.problems.map((p) => ({ kind: p.kind, seq: p.seq, message: p.message })),
  };
}

const verifyRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/audit/verify",
  tags: ["audit"],
  summary: "Walk each project's hash chain and name the first broken link",
  description:
    "Reads every event of the project (in batches): seconds for millions of events. The hashing runs on a worker thread, a few checks at a time with a few more waiting; beyond that the answer is 503 with Retry-After.",
  request: { query: z.strictObject({ project: projectParam }) },
  responses: {
    200: json(z.object({ ok: z.boolean(), projects: z.array(ChainReportSchema) }).openapi("ChainVerification"), "One report per project; ok is true when every chain holds"),
    ...protectedErrors,
    ...notFoundError,
    503: {
      description: "Too many checks running and waiting: try again after Retry-After seconds",
      headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait before trying again" } },
      content: {
        "application/json": {
          schema: z.object({ error: z.object({ code: z.enum(["SERVICE_UNAVAILABLE"]), message: z.string(), requestId: z.string() }) }),
        },
      },
    },
  },
});

/**
 * Checks run one per CPU worker at once (more at once would only share the same
 * cores and finish later); a few more wait their turn. A check of a million events
 * takes tens of seconds, so a caller refused is told to come back in a while.
 */
const VERIFY_WAITING = 8;
const VERIFY_RETRY_AFTER_SECONDS = 30;

export function registerEvents(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const verifications = new BoundedQueue(cpuPool().size, VERIFY_WAITING, VERIFY_RETRY_AFTER_SECONDS);
  const respond = (c: Parameters<typeof respondList>[0], filter: EventFilter, direction: "asc" | "desc", q: Parameters<typeof respondList>[3]) =>
    respondList(
      c,
      deps,
      {
        scope: `events:${direction}`,
        order: eventOrder(direction),
        columns: EVENT_COLUMNS,
        page: (after, limit) => listEvents(db, { filter, direction, after, limit }),
        count: (mode) => countEvents(db, filter, mode),
      },
      q,
    );

  app.openapi(feedRoute, async (c) => {
    const q = c.req.valid("query");
    const filter: EventFilter = {
      projects: await resolveProjects(db, q.project),
      kinds: q.kind,
      sources: q.source,
      actor: q.actor,
      from: q.from,
      to: q.to,
    };
    return respond(c, filter, q.order ?? "desc", q);
  });

  app.openapi(fileRoute, async (c) => {
    const { uuid: fileUuid } = c.req.valid("param");
    const q = c.req.valid("query");
    const projectKey = await projectOfFile(deps, fileUuid, q.project);
    return respond(c, { projects: [projectKey], fileUuid }, q.order ?? "asc", q);
  });

  app.openapi(verifyRoute, async (c) => {
    const { project } = c.req.valid("query");
    const projectKeys = await resolveProjects(db, project);
    let reports: z.infer<typeof ChainReportSchema>[];
    try {
      reports = await verifications.run(async () => {
        const done: z.infer<typeof ChainReportSchema>[] = [];
        for (const projectKey of projectKeys) done.push(toChainResponse(await cpuPool().verify(deps.database, projectKey, deps.auditPublicKeys ?? [])));
        return done;
      }, c.req.raw.signal);
    } catch (err) {
      // A client that went away while waiting is no fault to log: it simply leaves the line.
      const abandoned = c.req.raw.signal.aborted && err === c.req.raw.signal.reason;
      if (!abandoned && !(err instanceof QueueFullError)) throw err;
      const message = abandoned ? "the request was abandoned while waiting for its turn" : "too many audit checks are running or waiting: try again later";
      const error = { code: "SERVICE_UNAVAILABLE" as const, message, requestId: c.get("requestId") };
      return c.json({ error }, 503, { "Retry-After": String(VERIFY_RETRY_AFTER_SECONDS) });
    }
    return c.json({ ok: reports.every((r) => r.ok), projects: reports }, 200);
  });
}
