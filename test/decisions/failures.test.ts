import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPlan, planProgress } from "../../src/db/queries/plans.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { UploadcareClient, type BatchResult } from "../../src/sync/uploadcare/client.ts";
import { createUploadcareClient } from "../../src/sync/uploadcare/create-client.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, FAST_RETRIES, projectOf } from "../support/uploadcare.ts";
import { applyPlan, approvedPlan, batchRequests, itemStatuses, patchSandboxFile, planEvents, scene, uploadOld, type Scene } from "./helpers.ts";

/**
 * A client whose batches meet an Uploadcare that changed after the re-read:
 * `before` runs between the apply's re-read and the batch request.
 */
class ChangingUpstream extends UploadcareClient {
  constructor(
    inner: UploadcareClient,
    private readonly before: (uuids: string[]) => Promise<void>,
  ) {
    super(inner.transport, { pageLimit: inner.pageLimit });
  }
  override forRun(): UploadcareClient {
    return this;
  }
  override async storeFiles(uuids: string[]): Promise<BatchResult> {
    await this.before(uuids);
    return super.storeFiles(uuids);
  }
  override async deleteFiles(uuids: string[]): Promise<BatchResult> {
    await this.before(uuids);
    return super.deleteFiles(uuids);
  }
}

async function removeBehindTheBack(sandbox: Sandbox, uuids: string[]): Promise<void> {
  for (const uuid of uuids) await patchSandboxFile(sandbox, uuid, { status: "removed" });
}

describe.each(backends)("partial failures on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 0 });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  it("records Uploadcare's problems per item and finishes when they stay under the threshold", async () => {
    const files = uploadOld(s.sandbox, 150, { stored: false, ageHours: 2, metadata: { keep: "p1" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "keep p1", template: "store-matching-unstored", params: { metadataKey: "keep", metadataValue: "p1" } });
    expect(plan.fileCount).toBe(150);
    // Five files vanish between the re-read and the store: Uploadcare reports them missing.
    const victims = new Set(files.slice(120, 125));
    const client = new ChangingUpstream(s.client, (uuids) => removeBehindTheBack(s.sandbox, uuids.filter((u) => victims.has(u))));
    const summary = await applyPlan(s, plan.id, "test:operator", { client });
    expect(summary).toMatchObject({ status: "applied", batches: 2, done: 145, failed: 5, skipped: 0 });
    const items = await itemStatuses(database.db, plan.id);
    for (const u of victims) expect(items.get(u)).toEqual({ status: "failed", reason: "Missing in the project" });
    const upstream = await allSandboxFiles(s.sandbox);
    expect(files.filter((u) => !victims.has(u)).every((u) => upstream.get(u)?.datetime_stored !== null)).toBe(true);
    const events = await planEvents(database.db, plan.id);
    expect(events.filter((e) => e.kind === "stored").length).toBe(145);
    expect(events.some((e) => victims.has(e.file_uuid ?? ""))).toBe(false);
  });

  it("halts the plan once failures pass the threshold and sends no further batch", async () => {
    const files = uploadOld(s.sandbox, 250, { stored: false, ageHours: 2, metadata: { keep: "p2" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "keep p2", template: "store-matching-unstored", params: { metadataKey: "keep", metadataValue: "p2" } });
    const victims = new Set(files.slice(0, 30));
    const client = new ChangingUpstream(s.client, (uuids) => removeBehindTheBack(s.sandbox, uuids.filter((u) => victims.has(u))));
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, plan.id, "test:operator", { client });
    expect(summary.status).toBe("halted");
    expect(summary.haltReason).toBe("30 of 100 attempted items failed (30.0%), more than the plan's 10.0% limit");
    expect(batchRequests(s.sandbox, "PUT", since)).toHaveLength(1);
    const progress = await planProgress(database.db, plan.projectKey, plan.id);
    expect([progress.done.files, progress.failed.files, progress.pending.files]).toEqual([70, 30, 150]);
    const after = await findPlan(database.db, plan.id, [plan.projectKey]);
    expect(after).toMatchObject({ status: "halted", haltReason: summary.haltReason });
    expect((await planEvents(database.db, plan.id)).at(-1)?.after).toMatchObject({ event: "halted", status: "halted", failed: 30, done: 70 });
    await expect(applyPlan(s, plan.id)).rejects.toThrow(/halted: only an approved plan can be applied/);
  });

  it("re-reads the files of a batch request that failed, and fails those Uploadcare did not act on", async () => {
    const files = uploadOld(s.sandbox, 40, { metadata: { purge_group: "f1" } });
    await s.sync();
    const plan = await approvedPlan(s, { name: "purge f1", template: "delete-old-with-metadata", params: { days: 1, metadataKey: "purge_group", metadataValue: "f1" } });
    // One attempt only, and the sandbox answers the batch with a 503 (fault controls).
    const oneShot = createUploadcareClient({ db: database.db, logger: silentLogger, project: projectOf(s.sandbox), policy: { ...FAST_RETRIES, maxAttempts: 1 } });
    const client = new ChangingUpstream(oneShot, async () => s.sandbox.setFaults({ errorNext: 1, errorStatus: 503 }));
    const summary = await applyPlan(s, plan.id, "test:operator", { client });
    expect(summary).toMatchObject({ status: "halted", done: 0, failed: 40 });
    const items = await itemStatuses(database.db, plan.id);
    expect(files.map((u) => items.get(u)?.status)).toEqual(files.map(() => "failed"));
    expect(items.get(files[0]!)?.reason).toMatch(/^request failed: DELETE \/files\/storage\/ answered 503/);
    const upstream = await allSandboxFiles(s.sandbox);
    expect(files.every((u) => upstream.get(u)?.datetime_removed === null)).toBe(true);
  });
});
