import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { ValidationError } from "../errors.ts";
import { ingestReportedRequests } from "../sync/api-log-ingest.ts";
import type { ApiDeps, App } from "./app.ts";
import { errorResponse } from "./errors.ts";
import { conflictError, json, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";

export const INGEST_PATH = "/v1/api-logs";
/** About 60,000 typical lines: a batch an application flushes, not a log archive. */
export const INGEST_LIMIT_BYTES = 10 * 1024 * 1024;

const IngestResult = z
  .object({
    accepted: z.number().int().openapi({ description: "Lines kept; all of them were committed together" }),
    rejected: z.number().int(),
    errors: z
      .array(
        z.object({
          line: z.number().int().openapi({ description: "1-based line number in the body" }),
          field: z.string().nullable().openapi({ description: "The field at fault; null when the line as a whole is (not UTF-8, not JSON, not an object, an unknown field)" }),
          reason: z.string().openapi({ example: "ts: names a day or time that does not exist" }),
        }),
      )
      .openapi({ description: "Why each rejected line was refused (at most 1,000)" }),
    errorsTruncated: z.boolean(),
  })
  .openapi("ApiLogIngestResult");

/** Printable ASCII, as the Idempotency-Key drafts use (a UUID, a ULID, a hash). */
const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, "must be 1 to 200 printable ASCII characters, such as a UUID")
  .optional()
  .openapi({ description: "Names the batch: a retry with the same key and body adds nothing and answers as the first time; the same key with another body is a 409" });

const route = protectedRoute("operator", {
  method: "post",
  path: INGEST_PATH,
  tags: ["api-logs"],
  summary: "Report requests your applications made to Uploadcare (NDJSON)",
  description: [
    'One JSON object per line: {"ts","method","path","status","duration_ms","api":"rest"|"upload","source"}.',
    "Each bad line is refused with its line number, field and reason (not UTF-8 or JSON, a NUL or unpaired surrogate in a string, a day that does not exist such as 2026-02-30, a year outside 1900–9999); the good lines are kept, all together in one transaction or none.",
    "A batch is recorded by its body's SHA-256 and its Idempotency-Key: sending the same body again, or the same key and body, adds nothing and answers what the first did, with `Idempotent-Replayed: true`.",
  ].join("\n\n"),
  request: {
    query: z.strictObject({
      project: z.string().min(1).max(100).optional().openapi({ description: "The project the requests belong to; optional when only one is configured" }),
    }),
    headers: z.object({ "idempotency-key": IdempotencyKey }),
    body: { content: { "application/x-ndjson": { schema: z.string() } }, required: true },
  },
  responses: {
    200: {
      ...json(IngestResult, "Counts of accepted and rejected lines, with the reasons; a retried batch gets the first answer again"),
      headers: { "Idempotent-Replayed": { description: "`true` when this batch was ingested before and nothing was added", schema: { type: "string", enum: ["true"] } } },
    },
    ...protectedErrors,
    ...conflictError("The Idempotency-Key was used before with a different body"),
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
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const body = new Uint8Array(await c.req.arrayBuffer());
    const now = deps.now ?? (() => new Date());
    const { result, replayed } = await ingestReportedRequests(deps.database.db, { projectKey, body, idempotencyKey, now: now() });
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result, 200);
  });
}
