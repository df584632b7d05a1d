import { Histogram, type Registry } from "prom-client";

/**
 * HTTP request durations of this instance's API by method, route template
 * (`/v1/files/{uuid}`, never the raw path) and status class (2xx, 4xx, 5xx).
 * Requests no route matched share the route `unmatched`, so a scan of random
 * paths adds no series.
 */
export const HTTP_DURATION_METRIC = "ucledger_http_request_duration_seconds";

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type HttpLabels = "method" | "route" | "status_class";

/** The registry's histogram, made on first use (a registry from createMetrics already has it). */
export function httpDurationHistogram(registry: Registry): Histogram<HttpLabels> {
  const existing = registry.getSingleMetric(HTTP_DURATION_METRIC) as Histogram<HttpLabels> | undefined;
  return (
    existing ??
    new Histogram({
      name: HTTP_DURATION_METRIC,
      help: "Duration of HTTP requests to this instance's API, by method, route template (unmatched when no route matched) and status class.",
      labelNames: ["method", "route", "status_class"] as const,
      buckets: BUCKETS_S,
      registers: [registry],
    })
  );
}

/** Methods outside this set share `other`: a client inventing verbs adds no series. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function httpLabels(method: string, route: string | null, status: number): Record<HttpLabels, string> {
  const verb = method.toUpperCase();
  return {
    method: METHODS.has(verb) ? verb : "other",
    route: route ?? "unmatched",
    status_class: status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other",
  };
}
