import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listPlanItems } from "../../src/db/queries/plans.ts";
import { REMOTE_BUCKET, REMOTE_STORAGE_NAME } from "../../src/sandbox/index.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles } from "../support/uploadcare.ts";
import { applyPlan, approvedPlan, itemStatuses, scene, uploadOld, type Scene } from "./helpers.ts";

describe.each(backends)("an archive plan on %s", (kind) => {
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

  it("copies each file to the custom storage, deletes only confirmed copies, and never deletes a file whose copy failed", async () => {
    const files = uploadOld(s.sandbox, 30, { metadata: { tier: "cold" } });
    await s.sync();
    const plan = await approvedPlan(s, {
      name: "archive cold",
      action: "archive",
      conditions: [{ kind: "metadata", key: "tier", op: "equals", value: "cold" }],
      archive: { target: REMOTE_STORAGE_NAME },
    });
    expect(plan.fileCount).toBe(30);
    const copyFails = files.slice(3, 5);
    s.sandbox.setFaults({ copyFailUuids: copyFails });
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, plan.id);
    s.sandbox.resetFaults();
    expect(summary).toMatchObject({ status: "applied", done: 28, failed: 2 });

    const log = s.sandbox.requests(since);
    const copies = log.filter((r) => r.method === "POST" && r.path === "/files/remote_copy/");
    expect(copies.map((r) => (r.body as { source: string }).source).sort()).toEqual([...files].sort());
    const deletes = log.filter((r) => r.method === "DELETE" && r.path === "/files/storage/");
    expect(deletes).toHaveLength(1);
    const deleted = deletes[0]!.body as string[];
    expect(deleted.sort()).toEqual(files.filter((u) => !copyFails.includes(u)).sort());
    // Every deleted file's copy was confirmed (201) before its delete went out.
    for (const uuid of deleted) {
      const copy = copies.find((r) => (r.body as { source: string }).source === uuid)!;
      expect(copy.status).toBe(201);
      expect(copy.seq).toBeLessThan(deletes[0]!.seq);
    }

    const upstream = await allSandboxFiles(s.sandbox);
    for (const uuid of copyFails) expect(upstream.get(uuid)?.datetime_removed).toBeNull();
    expect(deleted.every((u) => upstream.get(u)?.datetime_removed)).toBe(true);
    const items = await itemStatuses(database.db, plan.id);
    for (const uuid of copyFails) {
      expect(items.get(uuid)?.status).toBe("failed");
      expect(items.get(uuid)?.reason).toMatch(/^copy failed: .*File is not ready yet\./);
    }
    const { items: listed } = await listPlanItems(database.db, { filter: { projectKey: plan.projectKey, planId: plan.id, statuses: ["done"] }, after: null, limit: 100 });
    expect(listed).toHaveLength(28);
    expect(listed.every((i) => i.copyUrl?.startsWith(`s3://${REMOTE_BUCKET}/${i.fileUuid}/`))).toBe(true);
  });
});
