import { Histogram, type Registry } from "prom-client";
import type { RequestRecord } from "../sync/uploadcare/request-record.ts";

/**
 * Uploadcare request durations by operation and status. The operation is named
 * from the method and the path's shape, never the path itself: a file's uuid or
 * a webhook's id in a label would make one series per file.
 */
export const UPLOADCARE_DURATION_METRIC = "ucledger_uploadcare_request_duration_seconds";

/** Every request ucledger makes, by method and path shape; anything else is `other`. */
const OPERATIONS: { method: string; path: RegExp; operation: string }[] = [
  { method: "GET", path: /^\/files\/$/, operation: "list_files" },
  { method: "PUT", path: /^\/files\/storage\/$/, operation: "store_files" },
  { method: "DELETE", path: /^\/files\/storage\/$/, operation: "delete_files" },
  { method: "POST", path: /^\/files\/remote_copy\/$/, operation: "copy_file_to_remote" },
  { method: "GET", path: /^\/files\/[^/]+\/$/, operation: "get_file" },
  { method: "GET", path: /^\/webhooks\/$/, operation: "list_webhooks" },
  { method: "POST", path: /^\/webhooks\/$/, operation: "create_webhook" },
  { method: "PUT", path: /^\/webhooks\/[^/]+\/$/, operation: "update_webhook" },
  { method: "GET", path: /^\/projects\/[^/]+\/usage\/$/, operation: "get_usage" },
];

export function uploadcareOperation(method: string, path: string): string {
  const verb = method.toUpperCase();
  return OPERATIONS.find((o) => o.method === verb && o.path.test(path))?.operation ?? "other";
}

/** Seconds: a page of 1,000 files takes around a second, a slow answer up to the timeout. */
const BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function uploadcareDurationHistogram(registry: Registry): Histogram<"operation" | "status"> {
  const existing = registry.getSingleMetric(UPLOADCARE_DURATION_METRIC) as Histogram<"operation" | "status"> | undefined;
  return (
    existing ??
    new Histogram({
      name: UPLOADCARE_DURATION_METRIC,
      help: 'Duration of each attempt of each request this instance made to Uploadcare, by operation and HTTP status ("none" when no answer came).',
      labelNames: ["operation", "status"] as const,
      buckets: BUCKETS_S,
      registers: [registry],
    })
  );
}

export function statusLabel(status: number | null): string {
  return status === null ? "none" : String(status);
}

/** What one recorded attempt adds to the metrics: the count by project and API, the duration by operation. */
export function observeUploadcareAttempt(
  targets: { requests: { inc(labels: { project: string; api: string; status: string }): void }; durations: Histogram<"operation" | "status"> },
  record: RequestRecord,
): void {
  const status = statusLabel(record.status);
  targets.requests.inc({ project: record.projectKey, api: record.api, status });
  targets.durations.observe({ operation: uploadcareOperation(record.method, record.path), status }, record.durationMs / 1000);
}
