import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { Db } from "../db/client.ts";
import type { RequestRecord } from "../sync/uploadcare/request-record.ts";
import { httpDurationHistogram, type HttpLabels } from "./http-metrics.ts";
import { registerStateGauges } from "./state-gauges.ts";
import { registerSyncGauges } from "./sync-gauges.ts";
import { observeUploadcareAttempt, uploadcareDurationHistogram } from "./uploadcare-metrics.ts";

/**
 * Prometheus metrics. Figures every instance shares (sync health, rows
 * written, deliveries, plans, reference sources) are read from the database at
 * scrape time, so any instance answers for all; what happens inside one process
 * (its HTTP requests, its Uploadcare requests, its scheduler's claims, its
 * heap and event loop) is counted in that process, to be summed across instances.
 */
export interface Metrics {
  registry: Registry;
  uploadcareRequests: Counter<"project" | "api" | "status">;
  uploadcareDurations: Histogram<"operation" | "status">;
  httpDurations: Histogram<HttpLabels>;
  schedulerEvents: Counter<"job" | "event">;
  /** Counts one recorded Uploadcare attempt and observes its duration: pass as a client's `onRequest`. */
  observeUploadcareRequest(record: RequestRecord): void;
}

export function createMetrics(db: Db, now: () => Date = () => new Date()): Metrics {
  const registry = new Registry();
  // process_* and nodejs_*: CPU, memory, file descriptors, heap spaces, event-loop lag and GC durations.
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges `_total`, a suffix Prometheus keeps for counters (promtool check metrics
  // refuses it); each is the sum of its by-type gauge without the suffix (nodejs_active_handles{type}), kept.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) registry.removeSingleMetric(name);
  const uploadcareRequests = new Counter({
    name: "ucledger_uploadcare_requests_total",
    help: "Requests this instance made to Uploadcare, by project, API and HTTP status (\"none\" when no answer came).",
    labelNames: ["project", "api", "status"] as const,
    registers: [registry],
  });
  const uploadcareDurations = uploadcareDurationHistogram(registry);
  const httpDurations = httpDurationHistogram(registry);
  const schedulerEvents = new Counter({
    name: "ucledger_scheduler_events_total",
    help: "Scheduler events in this instance: claimed, skipped, took_over, succeeded, failed, fenced.",
    labelNames: ["job", "event"] as const,
    registers: [registry],
  });
  registerSyncGauges(registry, db, now);
  registerStateGauges(registry, db, now);

  return {
    registry,
    uploadcareRequests,
    uploadcareDurations,
    httpDurations,
    schedulerEvents,
    observeUploadcareRequest: (record) => observeUploadcareAttempt({ requests: uploadcareRequests, durations: uploadcareDurations }, record),
  };
}
