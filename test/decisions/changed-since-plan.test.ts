import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPlan } from "../../src/db/queries/plans.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, sandboxApi } from "../support/uploadcare.ts";
import { applyPlan, approvedPlan, batchRequests, itemStatuses, patchSandboxFile, scene, uploadOld, type Scene } from "./helpers.ts";

describe.each(backends)("files that changed between propose and apply, on %s", (kind) => {
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

  it("skips a file given the hold key, one stored by someone else and one removed meanwhile, and deletes the rest", async () => {
    const temp = uploadOld(s.sandbox, 30, { stored: false, ageHours: 3, metadata: { source: "import" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "drop stale temps", template: "delete-unstored-older-than", params: { hours: 2 } });
    expect(plan.fileCount).toBeGreaterThanOrEqual(30);
    const [held, storedByOthers, removedMeanwhile] = temp as [string, string, string];

    // Behind the plan's back: no webhooks, no sync; only the re-read at apply time can see these.
    await patchSandboxFile(s.sandbox, held, { metadata: { source: "import", ucledger_hold: "true" } });
    expect((await sandboxApi(s.sandbox, "PUT", `/files/${storedByOthers}/storage/`)).status).toBe(200);
    await patchSandboxFile(s.sandbox, removedMeanwhile, { status: "removed" });

    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, plan.id);
    expect(summary.status).toBe("applied");
    const items = await itemStatuses(database.db, plan.id);
    expect(items.get(held)).toEqual({ status: "skipped", reason: 'hold: metadata ucledger_hold = "true"' });
    expect(items.get(storedByOthers)).toEqual({ status: "skipped", reason: "stored by someone else since the plan" });
    expect(items.get(removedMeanwhile)).toEqual({ status: "skipped", reason: "removed since the plan (by someone else, or expired)" });
    const rest = temp.slice(3);
    expect(rest.every((u) => items.get(u)?.status === "done")).toBe(true);

    const sent = batchRequests(s.sandbox, "DELETE", since).flat();
    expect(sent).not.toContain(held);
    expect(sent).not.toContain(storedByOthers);
    expect(sent).not.toContain(removedMeanwhile);
    const upstream = await allSandboxFiles(s.sandbox);
    expect(upstream.get(held)?.datetime_removed).toBeNull();
    expect(upstream.get(storedByOthers)?.datetime_removed).toBeNull();
    expect(rest.every((u) => upstream.get(u)?.datetime_removed)).toBe(true);
  });

  it("skips a file whose evidence changed (its metadata value) with both values in the reason", async () => {
    const files = uploadOld(s.sandbox, 10, { metadata: { purge_group: "z9" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "purge z9", template: "delete-old-with-metadata", params: { days: 1, metadataKey: "purge_group", metadataValue: "z9" } });
    expect(plan.fileCount).toBe(10);
    await patchSandboxFile(s.sandbox, files[0]!, { metadata: { purge_group: "keep" } });
    const summary = await applyPlan(s, plan.id);
    expect(summary).toMatchObject({ status: "applied", done: 9, skipped: 1, failed: 0 });
    const items = await itemStatuses(database.db, plan.id);
    expect(items.get(files[0]!)).toEqual({ status: "skipped", reason: 'changed since the plan: metadata.purge_group "z9" → "keep"' });
    expect((await findPlan(database.db, plan.id, [s.sandbox.publicKey])).status).toBe("applied");
  });

  it("protects a file uploaded less than the plan's recent-upload window before the plan", async () => {
    const recent = uploadOld(s.sandbox, 3, { metadata: { purge_group: "r1" }, ageHours: 0.5 });
    const older = uploadOld(s.sandbox, 3, { metadata: { purge_group: "r1" }, ageHours: 5 });
    await s.sync();
    const plan = await approvedPlan(s, {
      name: "purge r1",
      action: "delete",
      conditions: [{ kind: "metadata", key: "purge_group", op: "equals", value: "r1" }],
    });
    expect(plan).toMatchObject({ fileCount: 3, excludedCount: 3 });
    const items = await itemStatuses(database.db, plan.id);
    expect(recent.map((u) => items.get(u))).toEqual(recent.map(() => ({ status: "excluded", reason: "recent: uploaded less than 1 h before the check" })));
    expect(older.map((u) => items.get(u)?.status)).toEqual(["pending", "pending", "pending"]);
  });
});
