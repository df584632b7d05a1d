import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { projectKeys } from "../db/queries/project-list.ts";
import { countSnapshots, listSnapshots, SNAPSHOT_ORDER, type SnapshotRecord } from "../db/queries/reference-snapshots.ts";
import { listSources, referencesOfFile, sourceExists } from "../db/queries/references.ts";
import { REFERENCE_DEFAULTS, SOURCE_NAME, type ReferenceSettings } from "../env.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { parseReferenceLine, readLines } from "../sync/references/ndjson.ts";
import { replaceReferences, type IncomingReference } from "../sync/references/replace.ts";
import { addReference, removeReference } from "../sync/references/single.ts";
import type { ApiDeps, App } from "./app.ts";
import { actorOf } from "./policies.ts";
import type { Caller } from "./auth.ts";
import { projectOfFile } from "./files.ts";
import { resolveProjects, respondList } from "./listing.ts";
import type { Column } from "./export.ts";
import { conflictError, exportContent, json, listPage, notFoundError, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";
import { bool, countParam, listParams, projectParam, uuid } from "./params.ts";

/**
 * Reference sources (docs/references.md): push a source's whole set, or one
 * reference at a time; read the sources' status and snapshots, and a file's
 * references. Logic lives in src/sync/references/.
 */

const NO_REFERENCE_CONFIG: ReferenceSettings = { maxDropShare: REFERENCE_DEFAULTS.maxDropShare, cdnDomains: [], sources: [] };

/** The full replacement streams its body; the 64 KiB limit of other routes does not apply (ndjson.ts sets its own). */
export function isReferenceUpload(method: string, path: string): boolean {
  return method === "PUT" && path.startsWith("/v1/references/");
}

const Timestamp = z.string().openapi({ format: "date-time", example: "2026-05-01T12:00:00.123456Z" });

const SourceParams = z.object({
  source: z
    .string()
    .regex(SOURCE_NAME, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    .openapi({ param: { name: "source", in: "path" }, example: "app-db" }),
});

const WriteQuery = z.strictObject({
  project: projectParam.openapi({ description: "The project the references belong to; needed only when several are configured" }),
});
const PutQuery = WriteQuery.extend({
  force: bool("true: apply even if the set drops more than the allowed share of the source's references (or is empty)").optional(),
});

const Snapshot = z
  .object({
    id: z.string().openapi({ format: "uuid" }),
    source: z.string(),
    kind: z.enum(["replace", "add", "remove"]),
    status: z.enum(["applied", "refused"]).openapi({ description: "refused: the replacement dropped too much; nothing changed" }),
    takenAt: Timestamp,
    size: z.number().int().openapi({ description: "References in the set after the write (refused: in the set sent)" }),
    previousSize: z.number().int(),
    added: z.number().int(),
    removed: z.number().int(),
    unresolved: z.number().int().openapi({ description: "Values that named no file (counted, not kept)" }),
    unknownFiles: z.number().int().openapi({ description: "References to UUIDs the ledger has no file for (yet)" }),
    forced: z.boolean(),
    actor: z.string(),
    message: z.string().nullable(),
  })
  .openapi("ReferenceSnapshot");

const SNAPSHOT_COLUMNS: Column<SnapshotRecord>[] = (
  ["id", "source", "kind", "status", "takenAt", "size", "previousSize", "added", "removed", "unresolved", "unknownFiles", "forced", "actor", "message"] as const
).map((key) => ({ name: key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), value: (r: SnapshotRecord) => r[key] }));

const ReplaceResult = z
  .object({
    projectKey: z.string(),
    source: z.string(),
    snapshotId: z.string(),
    takenAt: Timestamp,
    size: z.number().int(),
    previousSize: z.number().int(),
    added: z.number().int(),
    removed: z.number().int(),
    unresolved: z.number().int(),
    unresolvedSamples: z.array(z.object({ ref: z.string(), value: z.string(), reason: z.string() })).openapi({ description: "The first values that named no file, with why" }),
    unknownFiles: z.number().int(),
    nowReferenced: z.number().int().openapi({ description: "Files that became referenced with this set" }),
    nowUnreferenced: z.number().int().openapi({ description: "Files that lost their last reference with this set" }),
    forced: z.boolean(),
  })
  .openapi("ReferenceReplacement");

const SingleResult = z
  .object({
    projectKey: z.string(),
    source: z.string(),
    ref: z.string(),
    uuid: z.string().nullable().openapi({ description: "The file the value names; null when it names none" }),
    reason: z.string().nullable().openapi({ description: "Why the value names no file (then nothing was stored)" }),
    changed: z.number().int().openapi({ description: "References added or removed (0: already so)" }),
    size: z.number().int(),
    snapshotId: z.string(),
  })
  .openapi("ReferenceChange");

const SourceStatus = z
  .object({
    projectKey: z.string(),
    source: z.string(),
    kind: z.enum(["push", "pull"]),
    registered: z.boolean().openapi({ description: "False for a configured pull source that has not run yet" }),
    staleAfterHours: z.number().int(),
    stale: z.boolean().openapi({ description: "Not reported within staleAfterHours (or never): files it may reference are never orphans meanwhile" }),
    refs: z.number().int(),
    firstReportedAt: Timestamp.nullable(),
    lastReportedAt: Timestamp.nullable(),
    lastError: z.string().nullable(),
    lastSnapshot: Snapshot.nullable(),
  })
  .openapi("ReferenceSource");

const FileReferencesSchema = z
  .object({
    projectKey: z.string(),
    uuid: z.string(),
    referenced: z.boolean().nullable(),
    unreferencedSince: Timestamp.nullable(),
    lastReferencedAt: Timestamp.nullable(),
    heldByStaleSource: z.boolean(),
    references: z.array(
      z.object({ source: z.string(), ref: z.string(), value: z.string(), addedAt: Timestamp, sourceStale: z.boolean(), sourceLastReportedAt: Timestamp.nullable() }),
    ),
  })
  .openapi("FileReferences");

const SingleBody = z.strictObject({
  ref: z.string().min(1, "must not be empty").max(1000, "must be at most 1000 characters").refine((s) => !s.includes("\u0000"), "must not contain NUL characters"),
  value: z.string().max(4000, "must be at most 4000 characters").refine((s) => !s.includes("\u0000"), "must not contain NUL characters"),
});
const RemoveBody = SingleBody.partial({ value: true });

const putRoute = protectedRoute("operator", {
  method: "put",
  path: "/v1/references/{source}",
  tags: ["references"],
  summary: "Replace a source's whole set of references (NDJSON, streamed)",
  description:
    'One {"ref":"orders/981","value":"<uuid or CDN URL>"} per line: the source\'s complete current set. It replaces the previous set atomically. ' +
    "A set dropping more than the allowed share (default 10%) of the source's references is refused with 409 and changes nothing, unless force=true. " +
    "Values that name no file are counted and reported, not refused; a line that is not such an object refuses the whole set (400 naming the line).",
  request: {
    params: SourceParams,
    query: PutQuery,
    body: { content: { "application/x-ndjson": { schema: z.string() } }, required: true },
  },
  responses: {
    200: json(ReplaceResult, "The set was replaced"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("Refused: the set drops too many references, or the source is a pull source"),
    ...tooLargeError,
  },
});

const postRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/references/{source}",
  tags: ["references"],
  summary: "Add one reference to a source",
  request: { params: SourceParams, query: WriteQuery, body: { content: { "application/json": { schema: SingleBody } }, required: true } },
  responses: { 200: json(SingleResult, "Added (or already there)"), ...protectedErrors, ...notFoundError, ...conflictError("The source is a pull source"), ...tooLargeError },
});

const deleteRoute = protectedRoute("operator", {
  method: "delete",
  path: "/v1/references/{source}",
  tags: ["references"],
  summary: "Remove one reference from a source",
  description: "Without value, every file the ref points at is removed from it.",
  request: { params: SourceParams, query: WriteQuery, body: { content: { "application/json": { schema: RemoveBody } }, required: true } },
  responses: { 200: json(SingleResult, "Removed (or not there)"), ...protectedErrors, ...notFoundError, ...conflictError("The source is a pull source"), ...tooLargeError },
});

const listRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/references",
  tags: ["references"],
  summary: "Reference sources with their status and latest snapshot",
  request: { query: z.strictObject({ project: projectParam }) },
  responses: { 200: json(listPage(SourceStatus, "ReferenceSourcePage"), "Every source, configured or pushed"), ...protectedErrors, ...notFoundError },
});

const snapshotsRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/references/{source}/snapshots",
  tags: ["references"],
  summary: "A source's snapshots (every write, accepted or refused), newest first",
  request: { params: SourceParams, query: z.strictObject({ project: projectParam, count: countParam, ...listParams }) },
  responses: {
    200: { description: "A page of snapshots, or the export", content: { "application/json": { schema: listPage(Snapshot, "ReferenceSnapshotPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

const fileRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/files/{uuid}/references",
  tags: ["files", "references"],
  summary: "What references a file, since when it is unreferenced",
  request: {
    params: z.object({ uuid: uuid.openapi({ param: { name: "uuid", in: "path" } }) }),
    query: z.strictObject({ project: projectParam.openapi({ description: "Needed only when several projects hold this uuid" }) }),
  },
  responses: { 200: json(FileReferencesSchema, "The file's references"), ...protectedErrors, ...notFoundError, ...conflictError("Several projects hold this uuid: pass project") },
});

/** A request without a body reads as an empty set (which needs force). */
async function* noBody(): AsyncGenerator<Uint8Array> {}

export function registerReferences(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());
  const settings = deps.references ?? NO_REFERENCE_CONFIG;
  const refDeps = { db, now, settings };
  const actor = (c: Context) => actorOf(c.get("caller") as Caller);

  /** The project a write goes to: the one named (404 when unknown), else the only one. */
  const writeProject = async (project: string | undefined): Promise<string> => {
    const configured = deps.projects.map((p) => p.publicKey);
    const known = configured.length > 0 ? configured : await projectKeys(db);
    if (project !== undefined) {
      if (!known.includes(project)) throw new NotFoundError("project", project);
      return project;
    }
    if (known.length !== 1) throw new ValidationError(`project: required when several projects are configured (${known.join(", ")})`);
    return known[0]!;
  };

  app.openapi(putRoute, async (c) => {
    const { source } = c.req.valid("param");
    const { project, force } = c.req.valid("query");
    const projectKey = await writeProject(project);
    let lines = 0;
    async function* references(): AsyncGenerator<IncomingReference> {
      for await (const { line, text } of readLines(c.req.raw.body ?? noBody())) {
        lines += 1;
        yield parseReferenceLine(text, line);
      }
      if (lines === 0 && !force) throw new ValidationError("body: no lines; an empty set removes every reference of the source, so it needs force=true");
    }
    const result = await replaceReferences(refDeps, { projectKey, source, kind: "push", references: references(), force: force ?? false, actor: actor(c) });
    return c.json(result, 200);
  });

  app.openapi(postRoute, async (c) => {
    const { source } = c.req.valid("param");
    const projectKey = await writeProject(c.req.valid("query").project);
    const body = c.req.valid("json");
    return c.json(await addReference(refDeps, { projectKey, source, ref: body.ref, value: body.value, actor: actor(c) }), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { source } = c.req.valid("param");
    const projectKey = await writeProject(c.req.valid("query").project);
    const body = c.req.valid("json");
    if (!(await sourceExists(db, projectKey, source))) throw new NotFoundError("reference source", source);
    return c.json(await removeReference(refDeps, { projectKey, source, ref: body.ref, value: body.value, actor: actor(c) }), 200);
  });

  app.openapi(listRoute, async (c) => {
    const projects = await resolveProjects(db, c.req.valid("query").project);
    const at = now();
    const stored = await listSources(db, projects, at.toISOString());
    // Configured pull sources that never ran are listed too: they hold every file (never reported is stale).
    const pending = settings.sources
      .filter((s) => projects.includes(s.projectKey) && !stored.some((r) => r.projectKey === s.projectKey && r.source === s.name))
      .map((s) => ({
        projectKey: s.projectKey, source: s.name, kind: s.pull ? ("pull" as const) : ("push" as const), registered: false, staleAfterHours: s.staleAfterHours,
        stale: true, refs: 0, firstReportedAt: null, lastReportedAt: null, lastError: null, lastSnapshot: null,
      }));
    const data = [...stored.map((s) => ({ ...s, registered: true })), ...pending];
    return c.json({ data, nextCursor: null, total: data.length, totalExact: true }, 200);
  });

  app.openapi(snapshotsRoute, async (c) => {
    const { source } = c.req.valid("param");
    const q = c.req.valid("query");
    const projects = await resolveProjects(db, q.project);
    const holders = [];
    for (const p of projects) if (await sourceExists(db, p, source)) holders.push(p);
    if (holders.length === 0) throw new NotFoundError("reference source", source);
    if (holders.length > 1) throw new ValidationError(`project: required, since several projects have a source ${source} (${holders.join(", ")})`);
    const projectKey = holders[0]!;
    return respondList<SnapshotRecord>(
      c,
      deps,
      {
        scope: `reference-snapshots:${projectKey}:${source}`,
        order: SNAPSHOT_ORDER,
        columns: SNAPSHOT_COLUMNS,
        page: (after, limit) => listSnapshots(db, { projectKey, source, after, limit }),
        count: (mode) => countSnapshots(db, projectKey, source, mode),
      },
      q,
    );
  });

  app.openapi(fileRoute, async (c) => {
    const { uuid: fileUuid } = c.req.valid("param");
    const projectKey = await projectOfFile(deps, fileUuid, c.req.valid("query").project);
    return c.json(await referencesOfFile(db, { projectKey, uuid: fileUuid, at: now().toISOString() }), 200);
  });
}
