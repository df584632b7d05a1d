import { z } from "@hono/zod-openapi";
import {
  API_REQUEST_ORDERS,
  apiRequestOrder,
  countApiRequests,
  listApiRequests,
  UNVERIFIED_PROJECT,
  type ApiRequestEntry,
  type ApiRequestFilter,
  type StatusMatch,
} from "../db/queries/api-requests.ts";
import { listRefusedDeliveries, refusedDeliveryTotals } from "../db/queries/refused-deliveries.ts";
import { REFUSAL_REASONS } from "../db/schema/index.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { exportContent, listPage, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { countParam, limitParam, list, listParams, projectParam, text, timestamp } from "./params.ts";

const ApiRequestSchema = z
  .object({
    projectKey: z.string().openapi({ description: `Project; ${UNVERIFIED_PROJECT} for webhook deliveries whose signature did not verify` }),
    id: z.string(),
    requestedAt: z.string(),
    source: z.string().openapi({ description: "ucledger, uploadcare (webhook deliveries), or a reporting application" }),
    api: z.string().openapi({ description: "rest, upload, project or webhook" }),
    method: z.string(),
    path: z.string(),
    query: z.string().nullable(),
    status: z.number().int().nullable().openapi({ description: "Null when no answer came" }),
    durationMs: z.number().int(),
    attempt: z.number().int(),
    retryAfterS: z.number().nullable(),
    bytes: z.number().int().nullable(),
    error: z.string().nullable(),
    runId: z.string().nullable(),
  })
  .openapi("ApiRequest");

const COLUMNS: Column<ApiRequestEntry>[] = [
  { name: "project_key", value: (r) => r.projectKey },
  { name: "id", value: (r) => r.id },
  { name: "requested_at", value: (r) => r.requestedAt },
  { name: "source", value: (r) => r.source },
  { name: "api", value: (r) => r.api },
  { name: "method", value: (r) => r.method },
  { name: "path", value: (r) => r.path },
  { name: "query", value: (r) => r.query },
  { name: "status", value: (r) => r.status },
  { name: "duration_ms", value: (r) => r.durationMs },
  { name: "attempt", value: (r) => r.attempt },
  { name: "retry_after_s", value: (r) => r.retryAfterS },
  { name: "bytes", value: (r) => r.bytes },
  { name: "error", value: (r) => r.error },
  { name: "run_id", value: (r) => r.runId },
];

const status = z
  .string()
  .regex(/^([1-5]\d\d|[1-5]xx|none)$/i, "must be a status code (404), a class (5xx) or none")
  .transform((s): StatusMatch => {
    const lower = s.toLowerCase();
    if (lower === "none") return { none: true };
    if (lower.endsWith("xx")) return { class: Number(lower[0]) };
    return { code: Number(lower) };
  });

const ApiLogsQuery = z.strictObject({
  project: projectParam,
  status: list(status, "Status codes (429), classes (5xx) or none (no answer), comma-separated or repeated").optional(),
  path: text(500, "Exact path, or a prefix ending in * (/files/*)").optional(),
  source: list(text(100), "Sources, comma-separated or repeated").optional(),
  api: list(text(50), "APIs (rest, upload, project, webhook), comma-separated or repeated").optional(),
  method: list(z.string().regex(/^[A-Za-z]{1,10}$/, "must be an HTTP method").transform((m) => m.toUpperCase()), "HTTP methods").optional(),
  runId: text(100, "Only requests made by this sync run").optional(),
  from: timestamp("Requested at or after").optional(),
  to: timestamp("Requested before").optional(),
  order: z.enum(API_REQUEST_ORDERS, { message: "must be recent or errors_first" }).optional().openapi({
    description: "recent (default): newest first; errors_first: failed and unanswered requests first, each group newest first",
  }),
  count: countParam,
  ...listParams,
});

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/api-logs",
  tags: ["api-logs"],
  summary: "Requests to and from Uploadcare: ucledger's own calls, webhook deliveries, reported traffic",
  request: { query: ApiLogsQuery },
  responses: {
    200: { description: "A page of requests, or the export", content: { "application/json": { schema: listPage(ApiRequestSchema, "ApiRequestPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

const RefusedCount = z
  .object({
    source: z.string().openapi({ description: "The client's address (IPv6 folded to its /64), unknown, or other (past the per-minute cap of sources)" }),
    minute: z.string().openapi({ description: "Start of the UTC minute" }),
    reason: z.enum(REFUSAL_REASONS),
    status: z.number().int().openapi({ description: "What the delivery was answered (401, 413)" }),
    count: z.number().int(),
    lastAt: z.string(),
  })
  .openapi("RefusedWebhookCount");

const RefusedQuery = z.strictObject({
  from: timestamp("Minutes at or after; default the last 24 hours").optional(),
  to: timestamp("Minutes before").optional(),
  limit: limitParam,
});

const refusedRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/api-logs/refused-webhooks",
  tags: ["api-logs"],
  summary: "Webhook deliveries refused (bad or missing signature, body too large), counted per source, minute and reason",
  description:
    "Refused deliveries are not logged one by one (anyone can send them); each (source, minute, reason) is one counter. Totals are per reason over the whole range; rows are newest first, up to `limit`.",
  request: { query: RefusedQuery },
  responses: {
    200: {
      description: "Counters and totals",
      content: {
        "application/json": {
          schema: z
            .object({
              totals: z.array(z.object({ reason: z.enum(REFUSAL_REASONS), count: z.number().int(), sources: z.number().int() })),
              data: z.array(RefusedCount),
            })
            .openapi("RefusedWebhookCounts"),
        },
      },
    },
    ...protectedErrors,
  },
});

export function registerApiLogs(app: App, deps: ApiDeps) {
  app.openapi(refusedRoute, async (c) => {
    const q = c.req.valid("query");
    const now = deps.now ?? (() => new Date());
    const from = q.from ?? new Date(now().getTime() - 24 * 3_600_000).toISOString();
    const db = deps.database.db;
    const [totals, data] = await Promise.all([
      refusedDeliveryTotals(db, { from, to: q.to }),
      listRefusedDeliveries(db, { from, to: q.to, limit: q.limit ?? 100 }),
    ]);
    return c.json({ totals, data }, 200);
  });
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const filter: ApiRequestFilter = {
      projects: await resolveProjects(db, q.project, [UNVERIFIED_PROJECT]),
      statuses: q.status,
      path: q.path,
      sources: q.source,
      apis: q.api,
      methods: q.method,
      runId: q.runId,
      from: q.from,
      to: q.to,
    };
    const order = q.order ?? "recent";
    return respondList(
      c,
      deps,
      {
        scope: `api-logs:${order}`,
        order: apiRequestOrder(order),
        columns: COLUMNS,
        page: (after, limit) => listApiRequests(db, { filter, order, after, limit }),
        count: (mode) => countApiRequests(db, filter, mode),
      },
      q,
    );
  });
}
