import type { HttpBindings } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { ACCEPT_DETAIL, ACCEPT_V07, acceptsV07, authenticate } from "./auth.ts";
import type { SandboxContext } from "./context.ts";
import { createControlApp } from "./control.ts";
import { registerCopyRoutes } from "./copy-routes.ts";
import { errorPage, throttleDetail } from "./faults.ts";
import { registerFileInfoRoute, registerFileRoutes } from "./files-routes.ts";
import { registerGroupRoutes } from "./groups-routes.ts";
import { BadJson, Router, detail, type ApiRequest, type ApiResult } from "./http.ts";
import { registerMetadataRoutes } from "./metadata-routes.ts";
import { checkBearer, projectError, registerProjectApiRoutes } from "./project-api.ts";
import { registerProjectRoute, registerTagRoutes } from "./project-routes.ts";
import { dayNumber, isoMicros } from "./time.ts";
import { registerWebhookRoutes } from "./webhooks.ts";

// The HTTP pipeline. /__sandbox/ goes to the control API untouched; every
// other request is an Uploadcare REST or Project API call and passes through:
// expiry → injected latency/5xx → route → Accept → auth → injected 429 →
// handler → injected truncation → request log.

type Env = { Bindings: HttpBindings };

export function createApp(ctx: SandboxContext): Hono<Env> {
  const rest = new Router();
  registerFileRoutes(rest, ctx);
  registerCopyRoutes(rest, ctx);
  registerMetadataRoutes(rest, ctx);
  registerTagRoutes(rest, ctx);
  registerFileInfoRoute(rest, ctx);
  registerGroupRoutes(rest, ctx);
  registerWebhookRoutes(rest, ctx);
  registerProjectRoute(rest, ctx);
  const projectApi = new Router();
  registerProjectApiRoutes(projectApi, ctx);

  const app = new Hono<Env>({ strict: false });
  app.route("/__sandbox", createControlApp(ctx));
  app.all("*", async (c) => {
    if (c.req.path === "/__sandbox" || c.req.path.startsWith("/__sandbox/")) return c.json({ error: "unknown control endpoint" }, 404);
    return serveApi(ctx, rest, projectApi, c);
  });
  return app;
}

const decoder = new TextDecoder();

async function serveApi(ctx: SandboxContext, rest: Router, projectApi: Router, c: Context<Env>): Promise<Response> {
  const started = performance.now();
  const startedUs = ctx.clock.nowUs();
  const incoming = c.env.incoming;
  const url = new URL(c.req.url);
  const method = c.req.method.toUpperCase();
  const bodyBytes = method === "GET" || method === "HEAD" ? new Uint8Array(0) : new Uint8Array(await c.req.arrayBuffer());
  const api = url.pathname.startsWith("/projects/") ? "project" : "rest";
  ctx.lifecycle.tick();
  const req: ApiRequest = {
    method,
    path: url.pathname,
    rawUri: incoming.url ?? url.pathname + url.search,
    query: url.searchParams,
    header: (name) => {
      const v = incoming.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(", ") : v;
    },
    bodyBytes,
    bodyText: decoder.decode(bodyBytes),
    params: {},
    requestId: ctx.newRequestId(),
    publicKey: null,
  };

  let fault: string | null = null;
  let result: ApiResult;
  const { faults } = ctx;
  if (faults.config.latencyMs > 0) await sleep(faults.config.latencyMs);
  const injected = faults.error();
  if (injected !== null) {
    fault = "error";
    result = { status: injected, text: errorPage(injected), contentType: "text/html" };
  } else {
    const throttled = () => {
      if (!faults.throttle()) return null;
      fault = "throttle";
      const seconds = faults.config.retryAfterS;
      const body = api === "rest" ? { detail: throttleDetail(seconds) } : { message: throttleDetail(seconds), code: "throttled" };
      return { status: 429, body, headers: { "Retry-After": String(seconds) } } satisfies ApiResult;
    };
    result = api === "rest" ? await serveRest(ctx, rest, req, throttled) : await serveProject(ctx, projectApi, req, throttled);
  }

  // Response: exact v0.7 Content-Type (the SDK compares it verbatim), Vary, request id.
  const headers: Record<string, string> = { "X-Uploadcare-Request-Id": req.requestId, ...result.headers };
  if (api === "rest") {
    headers["Vary"] = "Accept";
    const allow = rest.allowFor(req.path);
    if (allow) headers["Allow"] = allow;
  }
  let payload: Uint8Array | null = null;
  if (result.status !== 204) {
    const text = result.text ?? JSON.stringify(result.body);
    headers["Content-Type"] = result.contentType ?? (api === "rest" ? ACCEPT_V07 : "application/json");
    payload = new TextEncoder().encode(text);
    if (result.status === 200 && result.text === undefined && faults.truncate()) {
      // Half the bytes, with a matching Content-Length: the HTTP exchange is
      // clean, the JSON inside it is not.
      fault = "truncate";
      payload = payload.slice(0, Math.floor(payload.length / 2));
    }
  }

  const bytes = payload?.length ?? 0;
  ctx.usage.recordServed(dayNumber(startedUs), bytes);
  ctx.log.add({
    time: isoMicros(startedUs),
    request_id: req.requestId,
    api,
    method,
    path: req.path,
    query: Object.fromEntries(url.searchParams),
    status: result.status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    key: api === "rest" ? claimedKey(req) : (/^\/projects\/([^/]+)\//.exec(req.path)?.[1] ?? null),
    body: method === "GET" || method === "HEAD" ? null : loggedBody(req),
    fault,
    response_bytes: bytes,
  });
  return new Response(method === "HEAD" ? null : payload, { status: result.status, headers });
}

type Throttle = () => ApiResult | null;

async function serveRest(ctx: SandboxContext, router: Router, req: ApiRequest, throttled: Throttle): Promise<ApiResult> {
  const match = router.match(req.method, req.path);
  if (match.kind === "not-found") return detail(404, "Not found.");
  // DRF order: content negotiation, authentication, throttling, then the method.
  if (!acceptsV07(req.header("accept"))) return detail(406, ACCEPT_DETAIL);
  const auth = authenticate(req, ctx.keys, { nowMs: ctx.clock.nowMs(), baseMs: ctx.clock.baseMs(), simpleAuthOverHttp: ctx.simpleAuthOverHttp });
  if (!auth.ok) return detail(auth.status, auth.detail);
  req.publicKey = auth.publicKey;
  const throttle = throttled();
  if (throttle) return throttle;
  if (match.kind === "method-not-allowed") return detail(405, `Method "${req.method}" not allowed.`);
  req.params = match.params;
  return runHandler(() => match.handler(req), () => detail(400, "JSON parse error."));
}

async function serveProject(ctx: SandboxContext, router: Router, req: ApiRequest, throttled: Throttle): Promise<ApiResult> {
  const match = router.match(req.method, req.path);
  if (match.kind === "not-found") return projectError(404, "not_found", "Not found.");
  const denied = checkBearer(req, ctx);
  if (denied) return denied;
  const throttle = throttled();
  if (throttle) return throttle;
  if (match.kind === "method-not-allowed") return projectError(405, "method_not_allowed", `Method "${req.method}" not allowed.`);
  req.params = match.params;
  req.publicKey = match.params["pub_key"] ?? null;
  return runHandler(() => match.handler(req), () => projectError(400, "parse_error", "JSON parse error."));
}

async function runHandler(run: () => ApiResult | Promise<ApiResult>, onBadJson: () => ApiResult): Promise<ApiResult> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof BadJson) return onBadJson();
    // A sandbox bug: answer like Django would, and say why on stderr.
    console.error("sandbox: handler failed", e);
    return { status: 500, text: errorPage(500), contentType: "text/html" };
  }
}

/** The public key named in Authorization, whether or not it authenticated. */
function claimedKey(req: ApiRequest): string | null {
  const m = /^Uploadcare(?:\.Simple)?\s+([^:\s]+):/.exec(req.header("authorization")?.trim() ?? "");
  return m ? (m[1] as string) : null;
}

function loggedBody(req: ApiRequest): unknown {
  if (req.bodyText === "") return null;
  try {
    return JSON.parse(req.bodyText);
  } catch {
    const type = req.header("content-type") ?? "";
    return type.startsWith("application/x-www-form-urlencoded") ? Object.fromEntries(new URLSearchParams(req.bodyText)) : req.bodyText;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
