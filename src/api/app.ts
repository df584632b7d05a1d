import { OpenAPIHono } from "@hono/zod-openapi";
import { randomUUID } from "node:crypto";
import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { errorResponse, handleError } from "./errors.ts";
import { registerHealth } from "./health.ts";
import { registerWebhookReceiver } from "./webhooks.ts";
import type { WebhookProject } from "../sync/webhooks/receive.ts";

export interface ApiDeps {
  database: Pick<Database, "db" | "kind">;
  logger: Logger;
  version: string;
  /** Configured projects, for verifying webhook signatures. */
  projects: WebhookProject[];
  now?: () => Date;
  /** Called when a new webhook delivery is in the inbox, to apply it soon. */
  onWebhookStored?: (projectKey: string) => void;
}

export interface AppVariables {
  requestId: string;
}

export type App = OpenAPIHono<{ Variables: AppVariables }>;

/** Builds the HTTP API. No I/O happens here; `src/index.ts` serves it. */
export function createApp(deps: ApiDeps): App {
  const app: App = new OpenAPIHono<{ Variables: AppVariables }>({
    // Validation failures answer 400 in the common envelope, naming the parameter.
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? issue.path.join(".") : result.target;
        return errorResponse(c, "BAD_REQUEST", `${where}: ${issue?.message ?? "invalid"}`);
      }
    },
  });

  app.use("*", async (c, next) => {
    const requestId = `req_${randomUUID()}`;
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    await next();
  });

  registerHealth(app, deps);
  registerWebhookReceiver(app, deps);

  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`));
  app.onError(handleError(deps.logger));
  return app;
}
