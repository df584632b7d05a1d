import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.ts";
import { receiveWebhook, recordDelivery } from "../sync/webhooks/receive.ts";
import type { App, ApiDeps } from "./app.ts";
import { errorResponse, statusFor } from "./errors.ts";

/** Uploadcare's deliveries carry one file object; anything far larger is not one. */
const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

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
    401: { description: "The signature does not verify; nothing was stored" },
    413: { description: "The body is too large" },
  },
});

export function registerWebhookReceiver(app: App, deps: ApiDeps) {
  app.use(
    route.path,
    bodyLimit({
      maxSize: WEBHOOK_BODY_LIMIT_BYTES,
      onError: (c) => errorResponse(c, "PAYLOAD_TOO_LARGE", `body: larger than ${WEBHOOK_BODY_LIMIT_BYTES} bytes`),
    }),
  );
  app.openapi(route, async (c) => {
    const started = performance.now();
    const requestedAt = new Date();
    const raw = await c.req.text();
    const now = deps.now ?? (() => new Date());
    try {
      const result = await receiveWebhook({ db: deps.database.db, projects: deps.projects, now }, raw, c.req.header("x-uc-signature"));
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
      if (err instanceof AppError) {
        await recordDelivery(deps.database.db, {
          projectKey: null,
          requestedAt,
          status: statusFor(err.code),
          durationMs: Math.round(performance.now() - started),
          bytes: Buffer.byteLength(raw),
          error: err.message,
          event: null,
        });
      }
      throw err;
    }
  });
}
