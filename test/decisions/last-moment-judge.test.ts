import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanRecord } from "../../src/db/queries/plans.ts";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import type { PolicyCreate } from "../../src/decisions/policy.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { approvePlan } from "../../src/decisions/review.ts";
import { REMOTE_STORAGE_NAME } from "../../src/sandbox/index.ts";
import type { UploadcareClient } from "../../src/sync/uploadcare/client.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles } from "../support/uploadcare.ts";
import { applyPlan, batchRequests, itemStatuses, patchSandboxFile, scene, uploadOld, type Scene } from "./helpers.ts";

const HOLD = 'hold: metadata ucledger_hold = "true"';

interface Hooks {
  /** After each confirmed copy to the archive, before anything else happens to the file. */
  afterCopy?: (source: string) => Promise<void>;
  /** Just before the batch delete request is made (its first attempt). */
  beforeDelete?: (uuids: string[]) => Promise<void>;
}

/** The scene's client with hooks between the steps of an apply, also on the per-run clients it hands out. */
function hooked(client: UploadcareClient, hooks: Hooks): UploadcareClient {
  const wrapped = Object.create(client) as UploadcareClient;
  wrapped.forRun = (runId) => hooked(client.forRun(runId), hooks);
  wrapped.copyToRemote = async (options) => {
    const answer = await client.copyToRemote(options);
    await hooks.afterCopy?.(options.source);
    return answer;
  };
  wrapped.deleteFiles = async (uuids, options) => {
    await hooks.beforeDelete?.(uuids);
    return client.deleteFiles(uuids, options);
  };
  return wrapped;
}

describe.each(backends)("judging each file at the last moment on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  let serial = 0;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 0, seed: 71 });
    // Outside every policy below, so none matches every live file.
    uploadOld(s.sandbox, 1, { metadata: { group: "bystander" } });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  const deps = () => ({ db: database.db, now: () => new Date() });

  async function approved(body: Omit<PolicyCreate, "name">): Promise<PlanRecord> {
    serial += 1;
    const created = await createPolicy(deps(), { projectKey: s.sandbox.publicKey, body: { name: `last moment ${serial}`, ...body } as PolicyCreate, actor: "test:author" });
    let plan = await proposePlan(deps(), { projectKeys: [s.sandbox.publicKey], policy: created.id, actor: "test:proposer" });
    for (const approver of ["test:approver-1", "test:approver-2", "test:approver-3"]) {
      if (plan.status !== "proposed") break;
      plan = await approvePlan(deps(), { planId: plan.id, projectKeys: [plan.projectKey], approver, reason: "reviewed in test" });
    }
    expect(plan.status).toBe("approved");
    return plan;
  }

  it("archive: a hold set while the copies are made saves the file, skipped with the reason and where its copy stays", async () => {
    const files = uploadOld(s.sandbox, 6, { metadata: { tier: "cold" } });
    await s.sync();
    const plan = await approved({ action: "archive", conditions: [{ kind: "metadata", key: "tier", op: "equals", value: "cold" }], archive: { target: REMOTE_STORAGE_NAME } });
    const saved = files[2]!;
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    // Someone sets the hold once the file's copy is made, well before the delete would go out.
    const client = hooked(s.client, {
      afterCopy: async (source) => {
        if (source === saved) await patchSandboxFile(s.sandbox, saved, { metadata: { tier: "cold", ucledger_hold: "true" } });
      },
    });
    const summary = await applyPlan(s, plan.id, "test:operator", { client });
    expect(summary).toMatchObject({ status: "applied", done: 5, skipped: 1, failed: 0 });

    const log = s.sandbox.requests(since);
    const copied = log.filter((r) => r.method === "POST" && r.path === "/files/remote_copy/").map((r) => (r.body as { source: string }).source);
    expect(copied).toContain(saved);
    const deleted = batchRequests(s.sandbox, "DELETE", since).flat();
    expect(deleted).not.toContain(saved);
    expect(deleted.sort()).toEqual(files.filter((u) => u !== saved).sort());
    // The file was read again after its copy and before the delete.
    const copyAt = log.find((r) => r.method === "POST" && (r.body as { source: string }).source === saved)!.seq;
    const deleteAt = log.find((r) => r.method === "DELETE")!.seq;
    expect(log.some((r) => r.method === "GET" && r.path === `/files/${saved}/` && r.seq > copyAt && r.seq < deleteAt)).toBe(true);

    const item = (await itemStatuses(database.db, plan.id)).get(saved);
    expect(item?.status).toBe("skipped");
    expect(item?.reason).toMatch(new RegExp(`^${HOLD.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(its copy stays at s3://`));
    expect((await allSandboxFiles(s.sandbox)).get(saved)?.datetime_removed).toBeNull();
  });

  it("delete: a retry after a failed request re-reads and re-judges first, and resends only the files still as planned", async () => {
    const files = uploadOld(s.sandbox, 5, { metadata: { purge: "retry" } });
    await s.sync();
    const plan = await approved({ action: "delete", conditions: [{ kind: "metadata", key: "purge", op: "equals", value: "retry" }] });
    const saved = files[1]!;
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const client = hooked(s.client, {
      beforeDelete: async () => {
        // The first attempt fails with a 503; by the retry, the file has a hold.
        s.sandbox.setFaults({ errorNext: 1, errorStatus: 503 });
        await patchSandboxFile(s.sandbox, saved, { metadata: { purge: "retry", ucledger_hold: "true" } });
      },
    });
    const summary = await applyPlan(s, plan.id, "test:operator", { client });
    s.sandbox.resetFaults();
    expect(summary).toMatchObject({ status: "applied", done: 4, skipped: 1, failed: 0 });

    const attempts = s.sandbox.requests(since).filter((r) => r.method === "DELETE" && r.path === "/files/storage/");
    expect(attempts.map((r) => r.status)).toEqual([503, 200]);
    expect((attempts[0]!.body as string[]).sort()).toEqual([...files].sort());
    expect((attempts[1]!.body as string[]).sort()).toEqual(files.filter((u) => u !== saved).sort());

    const items = await itemStatuses(database.db, plan.id);
    expect(items.get(saved)).toEqual({ status: "skipped", reason: HOLD });
    const upstream = await allSandboxFiles(s.sandbox);
    expect(upstream.get(saved)?.datetime_removed).toBeNull();
    for (const uuid of files.filter((u) => u !== saved)) expect(upstream.get(uuid)?.datetime_removed).not.toBeNull();
  });

  it("delete: when the lost answer's request did take effect, the look before the retry finds it done and sends nothing again", async () => {
    const files = uploadOld(s.sandbox, 3, { metadata: { purge: "truncated" } });
    await s.sync();
    const plan = await approved({ action: "delete", conditions: [{ kind: "metadata", key: "purge", op: "equals", value: "truncated" }] });
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    // The delete happens, but its answer arrives cut off: the client cannot tell.
    const client = hooked(s.client, { beforeDelete: async () => s.sandbox.setFaults({ truncateNext: 1 }) });
    const summary = await applyPlan(s, plan.id, "test:operator", { client });
    s.sandbox.resetFaults();
    expect(summary).toMatchObject({ status: "applied", done: 3, skipped: 0, failed: 0 });
    expect(batchRequests(s.sandbox, "DELETE", since)).toHaveLength(1);
    const items = await itemStatuses(database.db, plan.id);
    for (const uuid of files) expect(items.get(uuid)?.status).toBe("done");
  });
});
