import { z } from "@hono/zod-openapi";
import { ANCHOR_ORDER, listAnchors, type Anchor } from "../db/audit/anchors.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { exportContent, listPage, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { listParams, projectParam } from "./params.ts";

/**
 * `GET /v1/audit/anchors`: the signed chain heads, so a copy can be kept outside
 * the database. The NDJSON export is one anchor a line in the same names as the
 * JSON page, which `ucledger audit verify --anchors FILE` reads back as is.
 */

const AnchorSchema = z
  .object({
    projectKey: z.string(),
    seq: z.number().int().openapi({ description: "The anchored chain head: the project's event count when it was signed" }),
    hash: z.string().openapi({ description: "The hash of event `seq` (64 hex digits)" }),
    takenAt: z.string().openapi({ description: "When it was signed" }),
    keyId: z.string().openapi({ description: "First 16 hex digits of the SHA-256 of the signing key's public SPKI DER" }),
    signature: z.string().openapi({ description: "Base64 Ed25519 signature (see docs/security.md, Anchors)" }),
  })
  .openapi("AuditAnchor");

// snake_case, as the other exports; `audit verify --anchors` reads these names too.
const ANCHOR_COLUMNS: Column<Anchor>[] = [
  { name: "project_key", value: (a) => a.projectKey },
  { name: "seq", value: (a) => a.seq },
  { name: "hash", value: (a) => a.hash },
  { name: "taken_at", value: (a) => a.takenAt },
  { name: "key_id", value: (a) => a.keyId },
  { name: "signature", value: (a) => a.signature },
];

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/audit/anchors",
  tags: ["audit"],
  summary: "Signed audit anchors, newest first; or export them to keep a copy",
  description:
    "Each anchor is a project's chain head (seq, hash) signed with UCLEDGER_AUDIT_KEY. Keep the NDJSON export outside the database and check against it with `ucledger audit verify --anchors FILE`.",
  request: { query: z.strictObject({ project: projectParam, ...listParams }) },
  responses: {
    200: { description: "A page of anchors, or the export", content: { "application/json": { schema: listPage(AnchorSchema, "AuditAnchorPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

export function registerAnchors(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const projects = await resolveProjects(db, q.project);
    return respondList(
      c,
      deps,
      {
        scope: "anchors:desc",
        order: ANCHOR_ORDER,
        columns: ANCHOR_COLUMNS,
        page: (after, limit) => listAnchors(db, { projects, after, limit }),
      },
      q,
    );
  });
}
