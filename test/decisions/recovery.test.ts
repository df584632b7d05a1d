import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApply } from "../../src/decisions/apply.ts";
import { planLockFor, serverPlanLock } from "../../src/decisions/lock.ts";
import { cancelPlan } from "../../src/decisions/review.ts";
import { findPlan } from "../../src/db/queries/plans.ts";
import { ConflictError } from "../../src/errors.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, sandboxApi } from "../support/uploadcare.ts";
import { applyDeps, applyPlan, approvedPlan, batchRequests, itemStatuses, planEvents, scene, uploadOld, type Scene } from "./helpers.ts";

describe.each(backends)("resuming and guarding applies on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database);
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  it("re-reads items an interrupted run left sending: done if Uploadcare did it, sent once more only if it did not", async () => {
    const files = uploadOld(s.sandbox, 20, { metadata: { purge_group: "r2" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "purge r2", template: "delete-old-with-metadata", params: { days: 1, metadataKey: "purge_group", metadataValue: "r2" } });
    // As a run killed mid-batch leaves it: ten items marked sending, and Uploadcare got the request for five of them.
    const arrived = files.slice(0, 5);
    const lost = files.slice(5, 10);
    await database.db.execute(sql`update plans set status = 'applying' where id = ${plan.id}::uuid`);
    await database.db.execute(sql`update plan_items set status = 'sending', batch = 1 where plan_id = ${plan.id}::uuid and file_uuid = any(${sql.param([...arrived, ...lost])}::uuid[])`);
    expect((await sandboxApi(s.sandbox, "DELETE", "/files/storage/", arrived)).status).toBe(200);

    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, plan.id, "test:resumer");
    expect(summary).toMatchObject({ status: "applied", recovered: 5, done: 20, failed: 0, skipped: 0 });
    const sent = batchRequests(s.sandbox, "DELETE", since).flat();
    expect(sent.sort()).toEqual(files.slice(5).sort());
    const items = await itemStatuses(database.db, plan.id);
    expect(files.every((u) => items.get(u)?.status === "done")).toBe(true);
    // The recovered files' removal reached the ledger and the trail like any other.
    const removed = (await planEvents(database.db, plan.id)).filter((e) => e.kind === "removed").map((e) => e.file_uuid);
    expect(removed.sort()).toEqual([...files].sort());
    expect((await planEvents(database.db, plan.id)).filter((e) => e.file_uuid === null).at(-2)?.after).toMatchObject({ event: "apply_resumed" });
  });

  it("lets one apply of a plan run at a time", async () => {
    uploadOld(s.sandbox, 5, { metadata: { purge_group: "r3" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "purge r3", template: "delete-old-with-metadata", params: { days: 1, metadataKey: "purge_group", metadataValue: "r3" } });
    const first = await startApply(applyDeps(s), { planId: plan.id, projectKeys: [plan.projectKey], actor: "one" });
    await expect(startApply(applyDeps(s), { planId: plan.id, projectKeys: [plan.projectKey], actor: "two" })).rejects.toThrow(/being applied already/);
    expect((await first.run()).status).toBe("applied");
  });

  it("stops before the next batch when the plan is cancelled while it runs", async () => {
    const files = uploadOld(s.sandbox, 250, { metadata: { purge_group: "r4" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "purge r4", template: "delete-old-with-metadata", params: { days: 1, metadataKey: "purge_group", metadataValue: "r4" } });
    let cancelled = false;
    const deps = applyDeps(s, {
      onBatch: () => {
        cancelled = true;
      },
    });
    const started = await startApply(deps, { planId: plan.id, projectKeys: [plan.projectKey], actor: "runner" });
    // Cancel as soon as the first batch is recorded: the loop reads the status before each batch.
    const run = started.run();
    while (!cancelled) await new Promise((r) => setTimeout(r, 5));
    await cancelPlan({ db: database.db, now: () => new Date() }, { planId: plan.id, projectKeys: [plan.projectKey], actor: "carol", reason: "wrong group" });
    const summary = await run;
    expect(summary.status).toBe("cancelled");
    expect(summary.batches).toBeLessThan(3);
    const upstream = await allSandboxFiles(s.sandbox);
    expect(files.filter((u) => upstream.get(u)?.datetime_removed).length).toBe(summary.done);
    expect((await findPlan(database.db, plan.id, [plan.projectKey])).status).toBe("cancelled");
    await expect(applyPlan(s, plan.id)).rejects.toThrow(ConflictError);
  });
});

// A server only: PGlite is one process by construction, and its lock is the in-process one above.
if (backends.includes("postgres")) {
  describe("the plan lock on a PostgreSQL server", () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase("postgres");
    });
    afterAll(async () => {
      await database?.close();
    });

    it("holds a plan against another instance through an advisory lock, released with the session", async () => {
      const a = serverPlanLock(database.pool!);
      const b = serverPlanLock(database.pool!);
      const release = await a.tryAcquire("p", "00000000-0000-4000-8000-000000000001");
      expect(release).not.toBeNull();
      expect(await b.tryAcquire("p", "00000000-0000-4000-8000-000000000001")).toBeNull();
      const other = await b.tryAcquire("p", "00000000-0000-4000-8000-000000000002");
      expect(other).not.toBeNull();
      await other!();
      await release!();
      const again = await planLockFor(database).tryAcquire("p", "00000000-0000-4000-8000-000000000001");
      expect(again).not.toBeNull();
      await again!();
    });
  });
}
