import type { MiddlewareHandler } from "hono";
import type { Registry } from "prom-client";
import { httpDurationHistogram, httpLabels } from "../observability/http-metrics.ts";
import { routePattern } from "./access-log.ts";
import type { ApiDeps, App } from "./app.ts";
import { errorResponse } from "./errors.ts";

/** `GET /metrics` in Prometheus's text format; public unless the deployment says otherwise. */
export function registerMetrics(app: App, deps: ApiDeps) {
  app.get("/metrics", async (c) => {
    if (!deps.metrics) return errorResponse(c, "NOT_FOUND", "metrics are not enabled in this process");
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { "Content-Type": deps.metrics.registry.contentType });
  });
}

/**
 * Times every request, labelled with the route template Hono matched
 * (`/v1/files/{uuid}`), never the raw path. Registered first, so refusals by
 * authentication and body limits are timed too.
 */
export function requestDurations(registry: Registry): MiddlewareHandler {
  const histogram = httpDurationHistogram(registry);
  return async (c, next) => {
    const started = performance.now();
    await next();
    histogram.observe(httpLabels(c.req.method, routePattern(c), c.res.status), (performance.now() - started) / 1000);
  };
}
