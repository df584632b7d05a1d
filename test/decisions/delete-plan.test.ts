import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sameJson } from "../../src/db/audit/canonical-json.ts";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { queryRows } from "../../src/db/query.ts";
import { approvePlan } from "../../src/decisions/review.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import { findPlan } from "../../src/db/queries/plans.ts";
import { ConflictError } from "../../src/errors.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, ledgerFiles } from "../support/uploadcare.ts";
import { applyPlan, batchRequests, itemStatuses, planEvents, scene, uploadOld, type Scene } from "./helpers.ts";

describe.each(backends)("a delete plan over 1,050 files on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  let targets: string[];
  let held: string[];
  let bystanders: string[];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database);
    targets = uploadOld(s.sandbox, 1_050, { metadata: { purge_group: "q3" } });
    held = uploadOld(s.sandbox, 3, { metadata: { purge_group: "q3", ucledger_hold: "true" } });
    bystanders = uploadOld(s.sandbox, 5, { metadata: { purge_group: "q4" } });
    await s.sync();
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  it("freezes 1,050 files with evidence and held files as excluded, needs two approvers, then deletes them in 11 batches with an action event each", async () => {
    const deps = { db: database.db, now: () => new Date() };
    const policy = await createPolicy(deps, {
      projectKey: s.sandbox.publicKey,
      body: { name: "purge q3", template: "delete-old-with-metadata", params: { days: 2, metadataKey: "purge_group", metadataValue: "q3" } },
      actor: "test:author",
    });
    const plan = await proposePlan(deps, { projectKeys: [s.sandbox.publicKey], policy: "purge q3", actor: "carol" });
    expect(plan).toMatchObject({ status: "proposed", action: "delete", fileCount: 1_050, excludedCount: 3, requiredApprovals: 2, policyId: policy.id, policyVersion: 1 });
    const items = await itemStatuses(database.db, plan.id);
    expect([...items].filter(([, i]) => i.status === "pending").map(([u]) => u).sort()).toEqual([...targets].sort());
    expect([...items].filter(([, i]) => i.status === "excluded").map(([u, i]) => [u, i.reason]).sort()).toEqual(
      held.map((u) => [u, 'hold: metadata ucledger_hold = "true"']).sort(),
    );
    const [evidence] = await queryRows<{ evidence: Record<string, unknown>; state: string; size: number }>(
      database.db,
      sql`select evidence, state, size from plan_items where plan_id = ${plan.id}::uuid and file_uuid = ${targets[0]}::uuid`,
    );
    expect(evidence!.evidence["metadata.purge_group"]).toBe("q3");
    expect(typeof evidence!.evidence["datetime_uploaded"]).toBe("string");
    expect(evidence!.state).toBe("stored");

    // Four eyes: the proposer cannot approve, and two others are needed above the size limits.
    await expect(approvePlan(deps, { planId: plan.id, projectKeys: [s.sandbox.publicKey], approver: "carol", reason: "mine" })).rejects.toThrow(/cannot approve/);
    const byAlice = await approvePlan(deps, { planId: plan.id, projectKeys: [s.sandbox.publicKey], approver: "alice", reason: "q3 is closed" });
    expect(byAlice.status).toBe("proposed");
    await expect(approvePlan(deps, { planId: plan.id, projectKeys: [s.sandbox.publicKey], approver: "alice", reason: "again" })).rejects.toThrow(ConflictError);
    await expect(applyPlan(s, plan.id)).rejects.toThrow(/not approved yet/);
    const byBob = await approvePlan(deps, { planId: plan.id, projectKeys: [s.sandbox.publicKey], approver: "bob", reason: "checked the sample" });
    expect(byBob.status).toBe("approved");

    // Applying: 11 batches of at most 100, every file removed in Uploadcare and the ledger, each recorded as an action.
    const planId = plan.id;
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, planId, "token:ops");
    expect(summary).toMatchObject({ status: "applied", batches: 11, done: 1_050, skipped: 0, failed: 0 });

    const batches = batchRequests(s.sandbox, "DELETE", since);
    expect(batches).toHaveLength(11);
    expect(batches.every((b) => b.length <= 100)).toBe(true);
    const sent = batches.flat();
    expect(new Set(sent).size).toBe(sent.length);
    expect([...sent].sort()).toEqual([...targets].sort());

    const upstream = await allSandboxFiles(s.sandbox);
    expect(targets.every((u) => upstream.get(u)?.datetime_removed)).toBe(true);
    expect([...held, ...bystanders].every((u) => upstream.get(u)?.datetime_removed === null)).toBe(true);
    // The ledger holds exactly what Uploadcare now says, field for field.
    const ledger = await ledgerFiles(database.db, s.sandbox.publicKey);
    expect(targets.filter((u) => !sameJson(ledger.get(u), upstream.get(u)))).toEqual([]);

    const events = await planEvents(database.db, planId);
    const fileEvents = events.filter((e) => e.file_uuid !== null);
    expect(fileEvents.every((e) => e.source === "action" && e.actor === "token:ops" && e.kind === "removed")).toBe(true);
    expect(fileEvents.map((e) => e.file_uuid).sort()).toEqual([...targets].sort());
    expect(events.filter((e) => e.file_uuid === null).map((e) => [e.after?.["event"], e.actor])).toEqual([
      ["proposed", "carol"],
      ["approval", "alice"],
      ["approval", "bob"],
      ["approved", "bob"],
      ["apply_started", "token:ops"],
      ["applied", "token:ops"],
    ]);
    expect(events.every((e) => e.kind !== "action" || (e.file_uuid === null && e.source === "action"))).toBe(true);
    expect((await verifyChain(database.db, s.sandbox.publicKey)).ok).toBe(true);
    expect((await findPlan(database.db, planId, [s.sandbox.publicKey])).status).toBe("applied");

    // Applying again sends nothing.
    const again = s.sandbox.requests().at(-1)?.seq ?? 0;
    await expect(applyPlan(s, planId)).rejects.toThrow(/applied: only an approved plan/);
    expect(s.sandbox.requests(again)).toEqual([]);
  }, 120_000);
});
