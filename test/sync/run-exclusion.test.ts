import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncRunner } from "../../src/api/sync-runner.ts";
import { claimRun, type Claim } from "../../src/db/queries/job-claims.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { claimManualRun, manualHolder } from "../../src/scheduler/exclusion.ts";
import { holdLease, LeaseLostError } from "../../src/scheduler/lease.ts";
import { Scheduler, type JobDefinition, type SchedulerEvent } from "../../src/scheduler/scheduler.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { DEFAULT_LIST_CONCURRENCY } from "../../src/sync/files/backfill/backfill-lane.ts";
import { apiHarness, type ErrorBody } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { clientFor, FAST_RETRIES, sandboxWithProject } from "../support/uploadcare.ts";
import { until } from "../support/wait.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitUntil = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => until(what, check, { timeoutMs });

async function claimRows(database: TestDatabase, projectKey: string) {
  return queryRows<{ job: string; status: string; holder: string; error: string | null }>(
    database.db,
    sql`select job, status, holder, error from job_claims where project_key = ${projectKey} order by claimed_at, slot`,
  );
}

describe.each(backends)("one run of a stream at a time on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("refuses a manual run while a scheduled one holds the files stream, lets another lane wait its turn, and skips a scheduled fire while a manual run holds it", async () => {
    const projectKey = "excl-p1";
    let active = 0;
    let overlapped = false;
    const work = async (gate: Promise<void>) => {
      active += 1;
      if (active > 1) overlapped = true;
      await gate;
      active -= 1;
    };

    // A scheduled files.new run is going.
    const scheduledGate = deferred();
    const events: SchedulerEvent[] = [];
    const scheduler = new Scheduler({ db: database.db, logger: silentLogger, instanceId: "sched-a", onEvent: (e) => events.push(e) });
    const newJob: JobDefinition = { name: "files.new", cron: "0 0 1 1 *", timezone: "UTC", projectKeys: [projectKey], run: () => work(scheduledGate.promise) };
    const scheduled = scheduler.fire(newJob, "2026-04-01T00:00:00.000000Z");
    await waitUntil("the scheduled run", () => active === 1);

    // The CLI's way in: refused, naming the holder, and recorded.
    const refused = await claimManualRun(database.db, silentLogger, { projectKey, stream: "files", holder: "cli:test-host:1" });
    expect(refused.kind).toBe("refused");
    if (refused.kind !== "refused") return;
    expect(refused.message).toMatch(
      /^a files sync is already running for excl-p1 \(files\.new \(slot 2026-04-01T00:00:00\.000000Z\) held by sched-a since \d{4}-\d\d-\d\dT/,
    );

    // The API's way in: 409 naming the holder; the runner's job never starts.
    let apiRuns = 0;
    const runner = createSyncRunner({ projects: [projectKey], logger: silentLogger, streams: { files: async () => void (apiRuns += 1) } });
    const api = await apiHarness(database, { sync: runner });
    const busy = await api.json<ErrorBody>(`/v1/sync/files/run?project=${projectKey}&full=true`, { method: "POST", role: "operator" });
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain("a files sync is already running for excl-p1 (files.new (slot 2026-04-01T00:00:00.000000Z) held by sched-a");

    // A reconciliation slot of the same project waits for its turn: one group per stream, whatever the lane.
    const reconcile = scheduler.fire({ ...newJob, name: "files.reconcile" }, "2026-04-01T00:05:00.000000Z");
    await sleep(300);
    expect(events).toEqual(["claimed"]);
    scheduledGate.resolve();
    await Promise.all([scheduled, reconcile]);
    expect(apiRuns).toBe(0);

    // Now a manual run holds the stream: a scheduled fire is skipped, naming it.
    const manualGate = deferred();
    const manual = await claimManualRun(database.db, silentLogger, { projectKey, stream: "files", holder: manualHolder("api") });
    expect(manual.kind).toBe("claimed");
    if (manual.kind !== "claimed") return;
    const manualRun = manual.run(() => work(manualGate.promise));
    await scheduler.fire(newJob, "2026-04-01T00:10:00.000000Z");
    manualGate.resolve();
    await manualRun;
    await scheduler.stop();

    expect(overlapped).toBe(false);
    expect(events).toEqual(["claimed", "succeeded", "claimed", "succeeded", "skipped"]);
    const rows = await claimRows(database, projectKey);
    expect(rows.map((r) => `${r.job}:${r.status}`)).toEqual([
      "files.new:done",
      "files.manual:skipped",
      "files.manual:skipped",
      "files.reconcile:done",
      "files.manual:done",
      "files.new:skipped",
    ]);
    expect(rows[1]!.error).toMatch(/^refused: a files sync is already running for excl-p1 \(files\.new .* held by sched-a/);
    expect(rows[5]!.error).toMatch(new RegExp(`^a run started by hand is going: files\\.manual held by api:[^ ]+:${process.pid} since`));
    // Once nothing runs, the API starts a run again.
    expect((await api.call(`/v1/sync/files/run?project=${projectKey}`, { method: "POST", role: "operator" })).status).toBe(202);
    await waitUntil("the API run", () => apiRuns === 1 && !runner.isRunning("files", projectKey));
  });

  it("lets exactly one of many simultaneous claims of a stream win, and keeps other streams and projects apart", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimManualRun(database.db, silentLogger, { projectKey: "excl-race", stream: "files", holder: `cli:elsewhere:${i}` })),
    );
    const won = attempts.filter((a) => a.kind === "claimed");
    expect(won).toHaveLength(1);
    // usage is its own group, and another project is its own.
    const usage = await claimManualRun(database.db, silentLogger, { projectKey: "excl-race", stream: "usage", holder: "cli:elsewhere:9" });
    const other = await claimManualRun(database.db, silentLogger, { projectKey: "excl-race-2", stream: "files", holder: "cli:elsewhere:9" });
    expect([usage.kind, other.kind]).toEqual(["claimed", "claimed"]);
    for (const claim of [...won, usage, other]) if (claim.kind === "claimed") await claim.drop("test over");
    const [running] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from job_claims where project_key like 'excl-race%' and status = 'running'`);
    expect(running?.n).toBe(0);
  });

  it("skips a slot whose own previous run still holds the stream, and gives up waiting for another lane at its next slot", async () => {
    const projectKey = "excl-turns";
    const gate = deferred();
    const events: string[] = [];
    const scheduler = new Scheduler({ db: database.db, logger: silentLogger, instanceId: "sched-t", leaseMs: 800, onEvent: (e, job) => events.push(`${job}:${e}`) });
    const reconcile: JobDefinition = { name: "files.reconcile", cron: "0 0 1 1 *", timezone: "UTC", projectKeys: [projectKey], run: () => gate.promise };
    const running = scheduler.fire(reconcile, "2026-04-04T00:00:00.000000Z");
    await waitUntil("the reconciliation", () => events.length === 1);
    await scheduler.fire(reconcile, "2026-04-04T00:00:01.000000Z");
    // Every second: waits for its turn until its next slot, then gives up (that slot takes over).
    const webhooks: JobDefinition = { name: "files.webhooks", cron: "* * * * * *", timezone: "UTC", projectKeys: [projectKey], run: async () => {} };
    const slot = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", ".000000Z");
    await scheduler.fire(webhooks, slot);
    gate.resolve();
    await running;
    await scheduler.stop();
    expect(events).toEqual(["files.reconcile:claimed", "files.reconcile:skipped", "files.webhooks:skipped", "files.reconcile:succeeded"]);
    const rows = await claimRows(database, projectKey);
    expect(rows.map((r) => `${r.job}:${r.status}`)).toEqual(["files.reconcile:done", "files.reconcile:skipped", "files.webhooks:skipped"]);
    expect(rows[1]!.error).toMatch(/^the previous run is still going: files\.reconcile \(slot 2026-04-04T00:00:00\.000000Z\) held by sched-t since /);
    expect(rows[2]!.error).toMatch(/^waited for its turn until the next slot: files\.reconcile \(slot 2026-04-04T00:00:00\.000000Z\) held by sched-t/);
  });

  it("renews a manual run's lease while it runs, and fires its signal once the claim is taken from it", async () => {
    const projectKey = "excl-manual-lease";
    const manual = await claimManualRun(database.db, silentLogger, { projectKey, stream: "usage", holder: "cli:elsewhere:1", leaseMs: 300 });
    if (manual.kind !== "claimed") throw new Error("not claimed");
    const leaseOf = async () =>
      (await queryRows<{ until: string }>(database.db, sql`select lease_until::text as until from job_claims where project_key = ${projectKey}`))[0]!.until;
    const result = manual.run(async ({ signal }) => {
      const first = await leaseOf();
      await sleep(400);
      // Renewed past its first lease, so nobody could take it over meanwhile.
      expect(await leaseOf()).not.toBe(first);
      expect(signal.aborted).toBe(false);
      await database.db.execute(sql`update job_claims set holder = 'thief', fencing_token = nextval('job_fencing_tokens') where project_key = ${projectKey}`);
      await waitUntil("the signal", () => signal.aborted, 5_000);
      signal.throwIfAborted();
    });
    await expect(result).rejects.toThrow(/^lease lost: the claim was taken over or ended by another run \(usage\.manual for excl-manual-lease/);
    // The claim is the thief's now: ending the run changed nothing of it.
    expect(await claimRows(database, projectKey)).toEqual([expect.objectContaining({ job: "usage.manual", status: "running", holder: "thief" })]);
  });

  it("takes over an expired claim with a new token instead of starting beside it, and the old holder's signal fires", async () => {
    const projectKey = "excl-expired";
    // A scheduled run that stopped renewing: its lease ran out.
    const first = await claimRun(database.db, { projectKey, job: "files.reconcile", slot: "2026-04-02T00:00:00.000000Z" }, "frozen", 60_000);
    expect(first.kind).toBe("claimed");
    const stale = (first as { claim: Claim }).claim;
    const lease = holdLease(database.db, stale, 60_000, silentLogger);
    await database.db.execute(sql`update job_claims set lease_until = now() - interval '1 second' where project_key = ${projectKey}`);

    const ran: string[] = [];
    const scheduler = new Scheduler({ db: database.db, logger: silentLogger, instanceId: "sched-b", leaseMs: 600 });
    const job: JobDefinition = { name: "files.new", cron: "0 0 1 1 *", timezone: "UTC", projectKeys: [projectKey], run: async (ctx) => void ran.push(ctx.slot) };
    await scheduler.fire(job, "2026-04-02T00:01:00.000000Z");
    await scheduler.stop();
    expect(ran).toEqual(["2026-04-02T00:01:00.000000Z"]);

    const rows = await claimRows(database, projectKey);
    expect(rows.map((r) => `${r.job}:${r.status}:${r.holder}`)).toEqual(["files.reconcile:failed:frozen", "files.new:done:sched-b"]);
    expect(rows[0]!.error).toMatch(/^lease expired at .*: its holder frozen stopped renewing it; taken over by sched-b$/);
    // The old holder's writes are refused, and its next renewal fires its signal.
    await expect(database.db.transaction((tx) => lease.fence(tx))).rejects.toThrow(/^lease lost: the lease on files\.reconcile/);
    lease.release();
    const watcher = holdLease(database.db, stale, 300, silentLogger);
    await waitUntil("the old holder's signal", () => watcher.signal.aborted, 5_000);
    watcher.release();
    expect(watcher.signal.reason).toBeInstanceOf(LeaseLostError);
    expect((watcher.signal.reason as Error).message).toMatch(/^lease lost: the claim was taken over or ended by another run/);
  });
});

describe.each(backends)("a run whose lease is taken over on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // Slow pages, so the takeover lands while the lane waits on Uploadcare.
    sandbox = await sandboxWithProject(database.db, { files: 2_000, seed: 17, faults: { latencyMs: 400 } });
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("stops: its signal fires, it lists nothing beyond the page in flight, and its run is recorded failed with 'lease lost'", async () => {
    const listRequests = () => sandbox.requests().filter((r) => r.path === "/files/").length;
    let abortedAt: number | null = null;
    let reason: unknown;
    const events: SchedulerEvent[] = [];
    const job: JobDefinition = {
      name: "files.new",
      cron: "0 0 1 1 *",
      timezone: "UTC",
      projectKeys: [sandbox.publicKey],
      async run(ctx) {
        ctx.signal.addEventListener("abort", () => {
          abortedAt = listRequests();
          reason = ctx.signal.reason;
        });
        await syncFiles(
          { db: database.db, client: clientFor(database.db, sandbox, FAST_RETRIES, 50), logger: silentLogger, now: () => new Date(), fence: ctx.fence, signal: ctx.signal },
          { lanes: ["new"] },
        );
      },
    };
    const scheduler = new Scheduler({ db: database.db, logger: silentLogger, instanceId: "holder", leaseMs: 600, onEvent: (e) => events.push(e) });
    const run = scheduler.fire(job, "2026-04-03T00:00:00.000000Z");

    // Three pages in, while the lane waits for the next one, another instance takes the claim over.
    await waitUntil("three pages", () => listRequests() >= 3);
    await sleep(150);
    await database.db.execute(sql`
      update job_claims set holder = 'thief', fencing_token = nextval('job_fencing_tokens'), claimed_at = now(), attempts = attempts + 1
      where project_key = ${sandbox.publicKey} and job = 'files.new' and status = 'running'`);
    await run;
    await scheduler.stop();
    // Anything still in flight lands within one latency.
    await sleep(1_000);

    expect(abortedAt).not.toBeNull();
    expect(reason).toBeInstanceOf(LeaseLostError);
    // A first sync is a backfill: the pages in flight when the signal fired (one per
    // concurrent request) may land; no request may start after it.
    expect(listRequests() - abortedAt!).toBeLessThanOrEqual(DEFAULT_LIST_CONCURRENCY);
    expect(listRequests()).toBeLessThan(2_000 / 50);
    expect(events).toEqual(["claimed", "fenced"]);
    const runs = await queryRows<{ status: string; error: string | null; pages: number }>(
      database.db,
      sql`select status, error, pages from sync_runs where project_key = ${sandbox.publicKey} and lane = 'backfill'`,
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("failed");
    expect(runs[0]!.error).toMatch(/^lease lost: /);
    const [claim] = await claimRows(database, sandbox.publicKey);
    expect(claim).toMatchObject({ job: "files.new", status: "running", holder: "thief" });
  });
});
