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
