import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { countRefusedDelivery } from "../db/queries/refused-deliveries.ts";
import type { RefusalReason } from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import { receiveWebhook, recordDelivery } from "../sync/webhooks/receive.ts";
import type { App, ApiDeps } from "./app.ts";
import { errorResponse } from "./errors.ts";
import { clientAddress } from "./proxy.ts";

/** Uploadcare's deliveries carry one file object; anything far larger is not one. */
const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Distinct sources one instance counts per minute; past it, new sources share
 * the row `other`, so a flood from many addresses still adds a bounded number
 * of rows (at most this many plus one, per reason, minute and instance).
 */
export const REFUSED_SOURCES_PER_MINUTE = 1000;

/** Folds sources beyond the per-minute cap into `other`. In memory: it only bounds rows, it counts nothing. */
function sourceCap(limit: number) {
  let minute = -1;
  let seen = new Set<string>();
  return (source: string, at: Date): string => {
    const thisMinute = Math.floor(at.getTime() / 60_000);
    if (thisMinute !== minute) {
      minute = thisMinute;
      seen = new Set();
    }
    if (seen.has(source)) return source;
    if (seen.size >= limit) return "other";
    seen.add(source);
    return source;
  };
}

const Accepted = z
  .object({
    status: z.enum(["accepted", "duplicate"]),
    event: z.string(),
    problem: z.string().nullable().openapi({ description: "Why the delivery cannot be applied as sent; it is stored as received and set aside when applied" }),
  })
  .openapi("WebhookAccepted");

const route = createRoute({
  method: "post",
  path: "/v1/webhooks/uploadcare",
  tags: ["webhooks"],
  summary: "Receives Uploadcare's signed file webhooks (no token: the X-Uc-Signature is the credential)",
  request: {
    headers: z.object({ "x-uc-signature": z.string().optional() }),
  },
  responses: {
    200: { description: "Stored in the inbox exactly as received (or already there)", content: { "application/json": { schema: Accepted } } },
    401: { description: "The signature does not verify; nothing was stored (the refusal is counted per source, minute and reason)" },
    413: { description: "The body is too large (counted like a 401)" },
  },
});

export function registerWebhookReceiver(app: App, deps: ApiDeps) {
  const now = deps.now ?? (() => new Date());
  const capSource = sourceCap(REFUSED_SOURCES_PER_MINUTE);
  /**
   * Unsigned traffic must not grow the database per request: a refusal bumps a
   * counter row. If even that fails, the refusal is still answered.
   */
  const countRefusal = async (c: Context, reason: RefusalReason) => {
    const at = now();
    try {
      await countRefusedDelivery(deps.database.db, { source: capSource(clientAddress(c, deps.behindProxy ?? false), at), at, reason });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      deps.logger.error({ reason, cause: cause instanceof Error ? cause.message : String(cause ?? err) }, "counting a refused webhook delivery failed");
    }
  };
  app.use(
    route.path,
    bodyLimit({
      maxSize: WEBHOOK_BODY_LIMIT_BYTES,
      onError: async (c) => {
        await countRefusal(c, "body_too_large");
        return errorResponse(c, "PAYLOAD_TOO_LARGE", `body: larger than ${WEBHOOK_BODY_LIMIT_BYTES} bytes`);
      },
    }),
  );
  app.openapi(route, async (c) => {
    const started = performance.now();
    const requestedAt = new Date();
    const raw = await c.req.text();
    const signature = c.req.header("x-uc-signature");
    try {
      const result = await receiveWebhook({ db: deps.database.db, projects: deps.projects, now }, raw, signature);
      await recordDelivery(deps.database.db, {
        projectKey: result.projectKey,
        requestedAt,
        status: 200,
        durationMs: Math.round(performance.now() - started),
        bytes: Buffer.byteLength(raw),
        error: null,
        event: result.event,
      });
      if (!result.duplicate) deps.onWebhookStored?.(result.projectKey);
      return c.json({ status: result.duplicate ? ("duplicate" as const) : ("accepted" as const), event: result.event, problem: result.problem }, 200);
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHORIZED") await countRefusal(c, signature ? "signature_invalid" : "signature_missing");
      throw err;
    }
  });
}
