import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { createUploadcareClient } from "../../src/sync/uploadcare/create-client.ts";
import { apiHarness } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { FAST_RETRIES, projectOf, sandboxWithProject } from "../support/uploadcare.ts";

describe.each(backends)("GET /metrics on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 200, seed: 3 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("shows sync health, rows written, Uploadcare requests by status and scheduler events after a sync", async () => {
    const metrics = createMetrics(database.db);
    const client = createUploadcareClient({
      db: database.db,
      logger: silentLogger,
      project: projectOf(sandbox),
      policy: FAST_RETRIES,
      onRequest: (r) => metrics.uploadcareRequests.inc({ project: r.projectKey, api: r.api, status: String(r.status ?? "none") }),
    });
    sandbox.setFaults({ throttleNext: 1, retryAfterS: 0 });
    const scheduler = new Scheduler({
      db: database.db,
      logger: silentLogger,
      onEvent: (event, job) => metrics.schedulerEvents.inc({ job, event }),
    });
    await scheduler.fire(
      {
        name: "files.new",
        cron: "*/5 * * * *",
        timezone: "UTC",
        projectKeys: [sandbox.publicKey],
        run: async (ctx) => {
          await syncFiles({ db: database.db, client, logger: silentLogger, now: () => new Date(), fence: ctx.fence }, { lanes: ["new"] });
        },
      },
      "2026-11-26T10:00:00.000000Z",
    );

    const api = await apiHarness(database, { metrics });
    const res = await api.call("/metrics", { role: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    // A project's first sync is its backfill (the new-files lane takes over once it has a baseline).
    const labels = `project="${sandbox.publicKey}",stream="files",lane="backfill"`;
    expect(text).toMatch(new RegExp(`ucledger_sync_last_success_timestamp_seconds\\{${labels}\\} \\d{10}`));
    expect(text).toMatch(new RegExp(`ucledger_sync_lag_seconds\\{${labels}\\} \\d`));
    const live = text.match(new RegExp(`ucledger_sync_rows_written\\{${labels}\\} (\\d+)`));
    expect(Number(live?.[1])).toBeGreaterThan(100);
    expect(text).toContain(`ucledger_sync_last_run_failed{${labels}} 0`);
    expect(text).toMatch(new RegExp(`ucledger_uploadcare_requests_total\\{project="${sandbox.publicKey}",api="rest",status="200"\\} \\d`));
    expect(text).toContain(`ucledger_uploadcare_requests_total{project="${sandbox.publicKey}",api="rest",status="429"} 1`);
    expect(text).toContain('ucledger_scheduler_events_total{job="files.new",event="claimed"} 1');
    expect(text).toContain('ucledger_scheduler_events_total{job="files.new",event="succeeded"} 1');
  });
});
