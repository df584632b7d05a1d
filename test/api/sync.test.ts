import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncRunner, type SyncStartOptions } from "../../src/api/sync-runner.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { clientFor, sandboxWithProject } from "../support/uploadcare.ts";
import { apiHarness, type ApiHarness, type ErrorBody } from "./helpers.ts";
import { until } from "../support/wait.ts";

interface Started {
  stream: string;
  projects: string[];
  full: boolean;
  startedAt: string;
  follow: string;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const jsonHeaders = { "Content-Type": "application/json" };

describe.each(backends)("starting syncs over the API on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 40, seed: 5 });
    await database.db.execute(sql`insert into projects (project_key, name) values ('sync-other', 'other'), ('sync-stale', 'stale')`);
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  /** A runner whose files job waits until released, recording what it was asked. */
  function fakeRunner(projects: string[], withUsage = false) {
    const calls: { projectKey: string; options: SyncStartOptions }[] = [];
    const gate = deferred();
    const runner = createSyncRunner({
      projects,
      logger: silentLogger,
      streams: {
        files: async (projectKey, options) => {
          calls.push({ projectKey, options });
          await gate.promise;
        },
        ...(withUsage ? { usage: () => gate.promise } : {}),
      },
    });
    return { runner, calls, release: gate.resolve };
  }

  it("starts a real files sync in the background and answers 202 with a link to its runs", async () => {
    const runner = createSyncRunner({
      projects: [sandbox.publicKey],
      logger: silentLogger,
      streams: {
        files: (projectKey, { full }) =>
          syncFiles({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => new Date() }, { full }),
      },
    });
    const api = await apiHarness(database, { sync: runner });
    const { status, body, res } = await api.json<Started>(`/v1/sync/files/run?full=true`, { method: "POST", role: "operator" });
    expect(status).toBe(202);
    expect(body).toMatchObject({ stream: "files", projects: [sandbox.publicKey], full: true });
    expect(res.headers.get("location")).toBe(body.follow);
    expect(runner.isRunning("files", sandbox.publicKey)).toBe(true);

    // Follow the link until both lanes have finished: on an empty ledger the
    // first sync is one backfill (it lists each file once), then webhooks.
    let runs: { lane: string; status: string }[] = [];
    for (let i = 0; i < 800 && !(runs.length === 2 && runs.every((r) => r.status !== "running")); i++) {
      await new Promise((r) => setTimeout(r, 50));
      runs = (await api.json<{ data: { lane: string; status: string }[] }>(body.follow)).body.data;
    }
    expect(runs.map((r) => `${r.lane}:${r.status}`).sort()).toEqual(["backfill:ok", "webhooks:ok"]);
    const listed = await api.json<{ total: number }>(`/v1/files?project=${sandbox.publicKey}&limit=1`);
    expect(listed.body.total).toBe(40);
  });

  it("answers 409 while this process runs the stream, and 202 again once it ends", async () => {
    const { runner, calls, release } = fakeRunner(["sync-other"]);
    const api = await apiHarness(database, { sync: runner });
    expect((await api.call("/v1/sync/files/run", { method: "POST", role: "operator", body: JSON.stringify({ project: "sync-other" }), headers: jsonHeaders })).status).toBe(202);
    const busy = await api.json<ErrorBody>("/v1/sync/files/run?project=sync-other", { method: "POST", role: "operator" });
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toMatch(/^a files sync is already running for sync-other \(/);
    expect(calls).toEqual([{ projectKey: "sync-other", options: { full: false } }]);
    release();
    // The run ends once its claim is released in the database: waited for, not assumed after a fixed pause.
    await until("the released run to end", () => !runner.isRunning("files", "sync-other"), { timeoutMs: 10_000 });
    expect((await api.call("/v1/sync/files/run?project=sync-other", { method: "POST", role: "operator" })).status).toBe(202);
  });

  it("answers 409 while another instance holds the stream's claim, and is not blocked by a ghost run row", async () => {
    const { runner, release } = fakeRunner(["sync-stale"], true);
    release();
    const api = await apiHarness(database, { sync: runner });
    // A `running` row left by a dead process is a ghost, not a holder: the run starts (and closes it).
    await database.db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, status)
      values ('sync-stale', ${randomUUID()}, 'files', 'new', now() - interval '10 minutes', 'running')`);
    expect((await api.call("/v1/sync/files/run?project=sync-stale", { method: "POST", role: "operator" })).status).toBe(202);
    await until("the run to end and release its claim", () => !runner.isRunning("files", "sync-stale"), { timeoutMs: 10_000 });
    // A live claim of another instance refuses the run, naming the holder.
    await database.db.execute(sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until)
      values ('sync-stale', 'files.new', now(), nextval('job_fencing_tokens'), 'instance-elsewhere', 'running', now(), now() + interval '1 hour')`);
    const busy = await api.json<ErrorBody>("/v1/sync/files/run?project=sync-stale", { method: "POST", role: "admin" });
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain("instance-elsewhere");
    // Another stream of the same project is not blocked by it.
    expect((await api.call("/v1/sync/usage/run?project=sync-stale", { method: "POST", role: "operator" })).status).toBe(202);
  });

  it("answers 409 for a stream this server has no job for, and when there is no runner at all", async () => {
    const { runner } = fakeRunner(["sync-other"]);
    const api = await apiHarness(database, { sync: runner });
    const usage = await api.json<ErrorBody>("/v1/sync/usage/run", { method: "POST", role: "operator" });
    expect(usage.status).toBe(409);
    expect(usage.body.error.message).toContain("stream usage cannot be run by this server");
    const bare = await apiHarness(database);
    expect((await bare.call("/v1/sync/files/run", { method: "POST", role: "operator" })).status).toBe(409);
  });

  it.each<[string, RequestInit, string]>([
    ["/v1/sync/reports/run", {}, "stream"],
    ["/v1/sync/files/run?full=yes", {}, "full"],
    ["/v1/sync/files/run?project=", {}, "project"],
    ["/v1/sync/files/run", { body: JSON.stringify({ full: "true" }), headers: jsonHeaders }, "full"],
    ["/v1/sync/files/run", { body: JSON.stringify({ projects: ["a"] }), headers: jsonHeaders }, "projects"],
    ["/v1/sync/files/run", { body: "[", headers: jsonHeaders }, "body"],
  ])("answers 400 for %s naming the parameter", async (path, init, param) => {
    const { runner } = fakeRunner(["sync-other"]);
    const api = await apiHarness(database, { sync: runner });
    const { status, body } = await api.json<ErrorBody>(path, { method: "POST", role: "operator", ...init });
    expect(status).toBe(400);
    expect(body.error.message).toContain(param);
  });

  it("answers 404 for a project it cannot sync", async () => {
    const { runner } = fakeRunner(["sync-other"]);
    const api = await apiHarness(database, { sync: runner });
    const { status, body } = await api.json<ErrorBody>("/v1/sync/files/run?project=nowhere", { method: "POST", role: "operator" });
    expect(status).toBe(404);
    expect(body.error.message).toBe("project nowhere not found");
  });
});
