import { z } from "@hono/zod-openapi";
import {
  countQuarantine,
  listQuarantine,
  QUARANTINE_DISPOSITIONS,
  QUARANTINE_ORDER,
  QUARANTINE_SOURCES,
  type QuarantineEntry,
  type QuarantineFilter,
} from "../db/queries/quarantine.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { exportContent, listPage, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { countParam, list, listParams, projectParam, uuid } from "./params.ts";

/** Upstream records the sync could not store as sent, for people to look at (the sync writes them). */

export const QUARANTINE_PATH = "/v1/sync/quarantine";

const QuarantineSchema = z
  .object({
    projectKey: z.string(),
    rawSha256: z.string().openapi({ description: "SHA-256 of `raw`: the same bad record seen again is the same row" }),
    fileUuid: z.string().nullable().openapi({ description: "Null when the record carries no readable uuid" }),
    source: z.string().openapi({ description: QUARANTINE_SOURCES.join(", ") }),
    disposition: z.string().openapi({ description: "set_aside: no file row was written from it; stored_escaped: the file row holds a documented substitute" }),
    reason: z.string(),
    raw: z.string().openapi({ description: "The record's JSON text exactly as Uploadcare sent it (escapes such as \\u0000 stay escapes)" }),
    runId: z.string().nullable().openapi({ description: "The sync run that saw it last" }),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
  })
  .openapi("QuarantinedRecord");

const COLUMNS: Column<QuarantineEntry>[] = [
  { name: "project_key", value: (r) => r.projectKey },
  { name: "raw_sha256", value: (r) => r.rawSha256 },
  { name: "file_uuid", value: (r) => r.fileUuid },
  { name: "source", value: (r) => r.source },
  { name: "disposition", value: (r) => r.disposition },
  { name: "reason", value: (r) => r.reason },
  { name: "raw", value: (r) => r.raw },
  { name: "run_id", value: (r) => r.runId },
  { name: "first_seen_at", value: (r) => r.firstSeenAt },
  { name: "last_seen_at", value: (r) => r.lastSeenAt },
];

const QuarantineQuery = z.strictObject({
  project: projectParam,
  disposition: list(z.enum(QUARANTINE_DISPOSITIONS, { message: `must be one of ${QUARANTINE_DISPOSITIONS.join(", ")}` }), "Dispositions, comma-separated or repeated").optional(),
  source: list(z.enum(QUARANTINE_SOURCES, { message: `must be one of ${QUARANTINE_SOURCES.join(", ")}` }), "Where the record came from, comma-separated or repeated").optional(),
  file: uuid.optional().openapi({ description: "Only records of this file" }),
  count: countParam,
  ...listParams,
});

const route = protectedRoute("viewer", {
  method: "get",
  path: QUARANTINE_PATH,
  tags: ["sync"],
  summary: "Upstream file records the sync could not store as sent, most recently seen first",
  description:
    "A record with a value PostgreSQL cannot hold (a NUL, an unpaired surrogate) or that fails the file schema is set aside, or stored with a documented substitute; " +
    "one row per distinct raw text, whose lastSeenAt moves each time Uploadcare sends it again.",
  request: { query: QuarantineQuery },
  responses: {
    200: { description: "A page of records, or the export", content: { "application/json": { schema: listPage(QuarantineSchema, "QuarantinePage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

export function registerQuarantine(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const filter: QuarantineFilter = {
      projects: await resolveProjects(db, q.project),
      dispositions: q.disposition,
      sources: q.source,
      fileUuid: q.file,
    };
    return respondList(
      c,
      deps,
      {
        scope: "sync-quarantine",
        order: QUARANTINE_ORDER,
        columns: COLUMNS,
        page: (after, limit) => listQuarantine(db, { filter, after, limit }),
        count: (mode) => countQuarantine(db, filter, mode),
      },
      q,
    );
  });
}
