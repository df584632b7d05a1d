import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { randomUUID } from "node:crypto";
import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { accessLogger, createAccessLog, type AccessLog } from "./access-log.ts";
import { registerApiLogs } from "./api-logs.ts";
import { INGEST_PATH, registerApiLogIngest } from "./api-logs-ingest.ts";
import { registerMetrics, requestDurations } from "./metrics.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { ReportMailDeps } from "./reports.ts";
import { authenticate, DEFAULT_PUBLIC_ROUTES, type Caller } from "./auth.ts";
import { registerDocs } from "./docs.ts";
import { errorResponse, handleError } from "./errors.ts";
import { registerAnchors } from "./anchors.ts";
import { registerEvents } from "./events.ts";
import { registerFiles } from "./files.ts";
import { registerHealth } from "./health.ts";
import { registerProjects } from "./projects.ts";
import { registerQuarantine } from "./quarantine.ts";
import { registerReports } from "./reports.ts";
import { registerStats } from "./stats.ts";
import { registerSync } from "./sync.ts";
import type { SyncRunner } from "./sync-runner.ts";
import { registerTokens } from "./tokens.ts";
import { registerUsage } from "./usage.ts";
import { registerCosts } from "./costs.ts";
import { registerViewExports } from "./view-exports.ts";
import { registerWebhookReceiver } from "./webhooks.ts";
import type { WebhookProject } from "../sync/webhooks/receive.ts";
import type { DecisionServices } from "../decisions/services.ts";
import { registerPolicies } from "./policies.ts";
import { registerPlans } from "./plans.ts";
import { isReferenceUpload, registerReferences } from "./references.ts";
import type { ReferenceSettings } from "../env.ts";
import { registerDashboard } from "./dashboard/register.tsx";

export interface ApiDeps {
  database: Pick<Database, "db" | "kind">;
  logger: Logger;
  version: string;
  /** Configured projects, for verifying webhook signatures. */
  projects: WebhookProject[];
  now?: () => Date;
  /** Called when a new webhook delivery is in the inbox, to apply it soon. */
  onWebhookStored?: (projectKey: string) => void;
  /** Starts sync runs for `POST /v1/sync/{stream}/run`; without it that route answers 409. */
  sync?: SyncRunner;
  /** Where access-log rows go; default a batched writer on the database. */
  accessLog?: AccessLog;
  /** `METHOD /path` pairs that need no token; default DEFAULT_PUBLIC_ROUTES. */
  publicRoutes?: readonly string[];
  /** Prometheus registry served at `/metrics`. */
  metrics?: Pick<Metrics, "registry">;
  /** Uploadcare clients and the plan lock for applying plans; without it `POST /v1/plans/{id}/apply` answers 409. */
  decisions?: DecisionServices;
  /** SMTP for `POST /v1/reports/{id}/send`; without it that route answers 409. */
  reportMail?: ReportMailDeps;
  /** Reference sources and value parsing; without it, push sources with the defaults. */
  references?: ReferenceSettings;
  /** The zone weeks are counted in (UCLEDGER_TIMEZONE), for the dashboard's overview; default UTC. */
  timezone?: string;
  /** UCLEDGER_BEHIND_PROXY: believe X-Forwarded-For for the client's address (refused webhook counts); default false. */
  behindProxy?: boolean;
  /** Public keys (PEM) of the signed audit anchors: verification checks the chain against them, incrementally. */
  auditPublicKeys?: string[];
}

export interface AppVariables {
  requestId: string;
  caller: Caller | undefined;
}

export type App = OpenAPIHono<{ Variables: AppVariables }>;

/** JSON bodies of this API are a few fields; the webhook receiver sets its own limit. */
export const BODY_LIMIT_BYTES = 64 * 1024;
const WEBHOOK_PATH = "/v1/webhooks/uploadcare";

function limitBodies(): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: (c) => errorResponse(c, "PAYLOAD_TOO_LARGE", `body: larger than ${BODY_LIMIT_BYTES} bytes`),
  });
  // The webhook receiver and the log ingest set limits of their own.
  return (c, next) => (c.req.path === WEBHOOK_PATH || c.req.path === INGEST_PATH || isReferenceUpload(c.req.method, c.req.path) ? next() : limit(c, next));
}

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
  const publicRoutes = new Set(deps.publicRoutes ?? DEFAULT_PUBLIC_ROUTES);
  const accessLog = deps.accessLog ?? createAccessLog({ db: deps.database.db, logger: deps.logger });

  app.use("*", async (c, next) => {
    const requestId = `req_${randomUUID()}`;
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    await next();
  });
  if (deps.metrics) app.use("*", requestDurations(deps.metrics.registry));
  app.use("*", accessLogger({ log: accessLog, publicRoutes, now: deps.now ?? (() => new Date()) }));
  app.use("*", authenticate({ db: deps.database.db, publicRoutes }));
  app.use("*", limitBodies());

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "A token from `ucledger token create` or POST /v1/tokens",
  });

  registerHealth(app, deps);
  registerWebhookReceiver(app, deps);
  registerProjects(app, deps);
  registerFiles(app, deps);
  registerEvents(app, deps);
  registerAnchors(app, deps);
  registerUsage(app, deps);
  registerCosts(app, deps);
  registerApiLogs(app, deps);
  registerApiLogIngest(app, deps);
  registerMetrics(app, deps);
  registerSync(app, deps);
  registerQuarantine(app, deps);
  registerStats(app, deps);
  registerReports(app, deps);
  registerTokens(app, deps);
  registerPolicies(app, deps);
  registerPlans(app, deps);
  registerReferences(app, deps);
  registerViewExports(app, deps);
  registerDocs(app, deps);
  registerDashboard(app, { ...deps, timezone: deps.timezone ?? "UTC", now: deps.now ?? (() => new Date()) });

  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`));
  app.onError(handleError(deps.logger));
  return app;
}
