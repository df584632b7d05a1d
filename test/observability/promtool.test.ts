import { serve } from "@hono/node-server";
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { createUploadcareClient } from "../../src/sync/uploadcare/create-client.ts";
import { apiHarness } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { FAST_RETRIES, projectOf, sandboxWithProject } from "../support/uploadcare.ts";

/**
 * CI's check of the alert rules and of /metrics with Prometheus's own tool.
 * promtool comes from Debian's `prometheus` package; without it this test
 * fails (it never skips), naming the package to install.
 */
const RULES_DIR = fileURLToPath(new URL("../../deploy/prometheus/", import.meta.url));

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", args, { cwd: RULES_DIR, input, encoding: "utf8" });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error("promtool is not installed: install Debian's prometheus package (`apt-get install -y prometheus`; .ci/run does this in CI)");
  }
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

describe("promtool", () => {
  it("is installed", () => {
    const version = promtool(["--version"]);
    expect(version.output).toMatch(/promtool, version \d+\.\d+/);
  });

  it("checks the alert rules", () => {
    const check = promtool(["check", "rules", "alerts.yml"]);
    expect(check.output).toContain("SUCCESS: 9 rules found");
    expect(check.status).toBe(0);
  });

  it("passes the rules' unit tests, one firing and one silent case per alert", () => {
    const run = promtool(["test", "rules", "alerts.test.yml"]);
    expect(run.output).toContain("SUCCESS");
    expect(run.status).toBe(0);
    // Every alert of alerts.yml has a test that expects it to fire and one that expects silence.
    const rules = execFileSync("grep", ["-o", "alert: [A-Za-z]*", "alerts.yml"], { cwd: RULES_DIR, encoding: "utf8" })
      .trim()
      .split("\n")
      .map((line) => line.slice("alert: ".length));
    const tests = execFileSync("cat", ["alerts.test.yml"], { cwd: RULES_DIR, encoding: "utf8" });
    for (const alert of rules) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:(.*)`, "g"))].map((m) => m[1]?.trim());
      expect(cases, alert).toContain("[]");
      expect(cases.some((c) => c === ""), `${alert} has a firing case`).toBe(true);
    }
  });
});

describe.each(backends)("promtool check metrics on a live /metrics on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  let server: Server;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 150, seed: 7 });
  });
  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await sandbox?.close();
    await database?.close();
  });

  it("is lint-clean after traffic, with the runtime metrics and both duration histograms", async () => {
    const metrics = createMetrics(database.db);
    const client = createUploadcareClient({ db: database.db, logger: silentLogger, project: projectOf(sandbox), policy: FAST_RETRIES, onRequest: metrics.observeUploadcareRequest });
    sandbox.setFaults({ throttleNext: 1, retryAfterS: 0 });
    const scheduler = new Scheduler({ db: database.db, logger: silentLogger, onEvent: (event, job) => metrics.schedulerEvents.inc({ job, event }) });
    const job = {
      name: "files.new",
      cron: "*/5 * * * *",
      timezone: "UTC",
      projectKeys: [sandbox.publicKey],
      run: async (ctx: { fence: Parameters<typeof syncFiles>[0]["fence"] }) => {
        await syncFiles({ db: database.db, client, logger: silentLogger, now: () => new Date(), fence: ctx.fence }, { lanes: ["new"] });
      },
    };
    // Two fires five minutes apart: the lane's schedule as the scheduler fired it.
    await scheduler.fire(job, "2026-11-26T10:00:00.000000Z");
    await scheduler.fire(job, "2026-11-26T10:05:00.000000Z");
    const [row] = await queryRows<{ uuid: string }>(database.db, sql`select uuid::text as uuid from files limit 1`);
    const file = await client.fileInfo(row!.uuid);
    expect(file).toBeTruthy();
    await seedStateGauges(database, sandbox.publicKey);

    const api = await apiHarness(database, { metrics });
    server = serve({ fetch: api.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = { Authorization: `Bearer ${api.tokens.viewer}` };
    expect((await fetch(`${base}/v1/files?limit=5`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/v1/files/${randomUUID()}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/v1/files`)).status).toBe(401);
    expect((await fetch(`${base}/no/such/${randomUUID()}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await scrape.text();

    const lint = promtool(["check", "metrics"], text);
    expect(lint.output.trim()).toBe("");
    expect(lint.status).toBe(0);

    // Node runtime and process metrics.
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes", "nodejs_gc_duration_seconds"]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    }
    // HTTP durations by route template and status class: never a raw path or a uuid.
    expect(text).toMatch(/^ucledger_http_request_duration_seconds_count\{method="GET",route="\/v1\/files",status_class="2xx"\} 1$/m);
    expect(text).toMatch(/^ucledger_http_request_duration_seconds_count\{method="GET",route="\/v1\/files\/\{uuid\}",status_class="4xx"\} 1$/m);
    expect(text).toMatch(/^ucledger_http_request_duration_seconds_count\{method="GET",route="\/v1\/files",status_class="4xx"\} 1$/m);
    expect(text).toMatch(/^ucledger_http_request_duration_seconds_count\{method="GET",route="unmatched",status_class="4xx"\} 1$/m);
    expect(text).toMatch(/^ucledger_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/healthz",status_class="2xx"\} 1$/m);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    // Uploadcare durations by operation and status, the throttled attempt included.
    expect(text).toMatch(/^ucledger_uploadcare_request_duration_seconds_count\{operation="list_files",status="200"\} [1-9]/m);
    expect(text).toMatch(/^ucledger_uploadcare_request_duration_seconds_count\{operation="list_files",status="429"\} 1$/m);
    expect(text).toMatch(/^ucledger_uploadcare_request_duration_seconds_count\{operation="get_file",status="200"\} 1$/m);
    expect(text).toContain(`ucledger_uploadcare_requests_total{project="${sandbox.publicKey}",api="rest",status="429"} 1`);
    // The figures the alerts read.
    const lane = `project="${sandbox.publicKey}",stream="files",lane="new"`;
    expect(text).toContain(`ucledger_sync_schedule_interval_seconds{${lane}} 300`);
    expect(text).toContain(`ucledger_reference_source_stale{project="${sandbox.publicKey}",source="cms"} 1`);
    expect(text).toContain(`ucledger_reference_source_stale{project="${sandbox.publicKey}",source="app-db"} 0`);
    expect(text).toContain(`ucledger_plans_awaiting_approval{project="${sandbox.publicKey}"} 1`);
    expect(text).toContain(`ucledger_plans_awaiting_approval_oldest_timestamp_seconds{project="${sandbox.publicKey}"} ${PROPOSED_AT_S}`);
  });
});

/** The oldest live proposal (a newer one, an expired one and an approved one must not count). */
const PROPOSED_AT_S = Date.parse("2026-01-10T09:00:00Z") / 1000;

async function seedStateGauges(database: TestDatabase, projectKey: string): Promise<void> {
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
  // cms: last report two days ago, stale after 24 h; app-db: reported an hour ago.
  await database.db.execute(sql`insert into reference_sources (project_key, source, kind, stale_after_hours, first_reported_at, last_reported_at, created_at)
    values (${projectKey}, 'cms', 'push', 24, ${twoDaysAgo}, ${twoDaysAgo}, ${twoDaysAgo}),
           (${projectKey}, 'app-db', 'push', 24, ${hourAgo}, ${hourAgo}, ${twoDaysAgo})`);
  const policyId = randomUUID();
  await database.db.execute(sql`insert into policies (project_key, id, name, action, conditions, version, created_at, created_by, updated_at, updated_by)
    values (${projectKey}, ${policyId}, 'old uploads', 'delete', '[]'::jsonb, 1, now(), 'test', now(), 'test')`);
  const future = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const plans: [string, string, string][] = [
    ["proposed", new Date(PROPOSED_AT_S * 1000).toISOString(), future],
    ["proposed", hourAgo, hourAgo], // expired, not yet swept
    ["approved", "2025-12-01T00:00:00Z", future],
  ];
  for (const [status, proposedAt, expiresAt] of plans) {
    await database.db.execute(sql`insert into plans (project_key, id, policy_id, policy_version, policy, action, options, status, file_count, total_bytes,
        excluded_count, required_approvals, proposed_by, proposed_at, expires_at, updated_at)
      values (${projectKey}, ${randomUUID()}, ${policyId}, 1, '{}'::jsonb, 'delete', '{}'::jsonb, ${status}, 1, 1, 0, 1, 'test', ${proposedAt}, ${expiresAt}, now())`);
  }
}
