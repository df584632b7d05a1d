import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { ValidationError } from "../errors.ts";
import { ingestReportedRequests } from "../sync/api-log-ingest.ts";
import type { ApiDeps, App } from "./app.ts";
import { errorResponse } from "./errors.ts";
import { json, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";

export const INGEST_PATH = "/v1/api-logs";
/** About 60,000 typical lines: a batch an application flushes, not a log archive. */
export const INGEST_LIMIT_BYTES = 10 * 1024 * 1024;

const IngestResult = z
  .object({
    accepted: z.number().int(),
    rejected: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })).openapi({ description: "Why each rejected line was refused (1-based line numbers; at most 1,000)" }),
    errorsTruncated: z.boolean(),
  })
  .openapi("ApiLogIngestResult");

const route = protectedRoute("operator", {
  method: "post",
  path: INGEST_PATH,
  tags: ["api-logs"],
  summary: "Report requests your applications made to Uploadcare (NDJSON)",
  description:
    'One JSON object per line: {"ts","method","path","status","duration_ms","api":"rest"|"upload","source"}. Good lines are kept even when others are refused.',
  request: {
    query: z.strictObject({
      project: z.string().min(1).max(100).optional().openapi({ description: "The project the requests belong to; optional when only one is configured" }),
    }),
    body: { content: { "application/x-ndjson": { schema: z.string() } }, required: true },
  },
  responses: {
    200: json(IngestResult, "Counts of accepted and rejected lines, with the reasons"),
    ...protectedErrors,
    ...tooLargeError,
  },
});

export function registerApiLogIngest(app: App, deps: ApiDeps) {
  app.use(
    INGEST_PATH,
    bodyLimit({
      maxSize: INGEST_LIMIT_BYTES,
      onError: (c) => errorResponse(c, "PAYLOAD_TOO_LARGE", `body: larger than ${INGEST_LIMIT_BYTES} bytes`),
    }),
  );
  app.openapi(route, async (c) => {
    const { project } = c.req.valid("query");
    const keys = deps.projects.map((p) => p.publicKey);
    const projectKey = project ?? (keys.length === 1 ? keys[0] : undefined);
    if (!projectKey) throw new ValidationError(`project: required when several projects are configured (${keys.join(", ")})`);
    if (!keys.includes(projectKey)) throw new ValidationError(`project: ${projectKey} is not a configured project`);
    const body = await c.req.text();
    if (body.trim() === "") throw new ValidationError("body: no lines");
    return c.json(await ingestReportedRequests(deps.database.db, projectKey, body), 200);
  });
}
