import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { ALREADY_TAGGED } from "../../src/decisions/protection.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, ledgerFiles } from "../support/uploadcare.ts";
import { applyPlan, approvedPlan, itemStatuses, patchSandboxFile, planEvents, scene, uploadOld, type Scene } from "./helpers.ts";

const FILES = 1_050;

/** Metadata writes the sandbox served since `since`: `uuid key` per request. */
function metadataWrites(s: Scene, since: number): string[] {
  return s.sandbox
    .requests(since)
    .filter((r) => (r.method === "PUT" || r.method === "DELETE") && /^\/files\/[0-9a-f-]{36}\/metadata\/[^/]+\/$/.test(r.path))
    .map((r) => {
      const [, , uuid, , key] = r.path.split("/");
      return `${uuid} ${key}`;
    });
}

describe.each(backends)("a tag plan on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 20 });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  it("writes each key once per file, skips files already tagged and held ones, and a rerun writes nothing", async () => {
    const plain = uploadOld(s.sandbox, FILES - 30, { metadata: { ucl_campaign: "spring" } });
    const tagged = uploadOld(s.sandbox, 10, { metadata: { ucl_campaign: "spring", season: "2024", owner: "marketing" } });
    const half = uploadOld(s.sandbox, 10, { metadata: { ucl_campaign: "spring", season: "2024", obsolete: "x" } });
    const held = uploadOld(s.sandbox, 10, { metadata: { ucl_campaign: "spring", ucledger_hold: "true" } });
    await s.sync();
    const heldLater = plain.slice(100, 103);

    const plan = await approvedPlan(s, {
      name: "tag spring",
      action: "tag",
      conditions: [{ kind: "metadata", key: "ucl_campaign", op: "equals", value: "spring" }],
      tag: { set: { season: "2024", owner: "marketing" }, remove: ["obsolete"] },
    });
    // Already tagged and held files are left out at proposal, with the reason.
    expect(plan.fileCount).toBe(FILES - 20);
    expect(plan.excludedCount).toBe(20);
    const proposed = await itemStatuses(database.db, plan.id);
    for (const u of tagged) expect(proposed.get(u)).toEqual({ status: "excluded", reason: ALREADY_TAGGED });
    for (const u of held) expect(proposed.get(u)?.reason).toBe('hold: metadata ucledger_hold = "true"');

    // Held after the proposal: the last look before the writes saves them.
    for (const u of heldLater) await patchSandboxFile(s.sandbox, u, { metadata: { ucl_campaign: "spring", ucledger_hold: "TRUE" } });

    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, plan.id);
    expect(summary).toMatchObject({ status: "applied", done: FILES - 23, skipped: 3, failed: 0 });

    const writes = metadataWrites(s, since);
    expect(new Set(writes).size).toBe(writes.length);
    const expected = [
      ...plain.filter((u) => !heldLater.includes(u)).flatMap((u) => [`${u} season`, `${u} owner`]),
      ...half.flatMap((u) => [`${u} owner`, `${u} obsolete`]),
    ];
    expect([...writes].sort()).toEqual(expected.sort());
    for (const u of [...held, ...heldLater, ...tagged]) expect(writes.some((w) => w.startsWith(u))).toBe(false);

    const upstream = await allSandboxFiles(s.sandbox);
    for (const u of [...plain.filter((x) => !heldLater.includes(x)), ...half]) {
      expect(upstream.get(u)?.metadata).toEqual({ ucl_campaign: "spring", season: "2024", owner: "marketing" });
    }
    for (const u of heldLater) expect(upstream.get(u)?.metadata).toEqual({ ucl_campaign: "spring", ucledger_hold: "TRUE" });
    const items = await itemStatuses(database.db, plan.id);
    for (const u of heldLater) expect(items.get(u)).toEqual({ status: "skipped", reason: 'hold: metadata ucledger_hold = "true"' });

    // The ledger has the new metadata, and the audit trail says which plan wrote it.
    const ledger = await ledgerFiles(database.db, s.sandbox.publicKey);
    expect((ledger.get(half[0]!)?.["metadata"] as Record<string, string>)["owner"]).toBe("marketing");
    const changed = (await planEvents(database.db, plan.id)).filter((e) => e.kind === "metadata_changed");
    expect(changed.length).toBe(FILES - 23);
    expect(changed.every((e) => e.source === "action" && e.actor === "test:operator")).toBe(true);

    // A rerun: applying again sends nothing, and a new proposal finds nothing left to tag.
    const again = s.sandbox.requests().at(-1)?.seq ?? 0;
    await expect(applyPlan(s, plan.id)).rejects.toThrow(/applied/);
    await s.sync();
    await expect(
      proposePlan({ db: database.db, now: () => new Date() }, { projectKeys: [s.sandbox.publicKey], policy: "tag spring", actor: "test:proposer" }),
    ).rejects.toThrow(/nothing to plan/);
    expect(metadataWrites(s, again)).toEqual([]);
  }, 180_000);

  it("under 429s still writes each key exactly once, retrying the throttled requests", async () => {
    const files = uploadOld(s.sandbox, 60, { metadata: { ucl_campaign: "throttled" } });
    await s.sync();
    const plan = await approvedPlan(s, {
      name: "tag throttled",
      action: "tag",
      conditions: [{ kind: "metadata", key: "ucl_campaign", op: "equals", value: "throttled" }],
      tag: { set: { checked: "yes" } },
    });
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    s.sandbox.setFaults({ throttleRate: 0.3, retryAfterS: 0 });
    const summary = await applyPlan(s, plan.id);
    s.sandbox.resetFaults();
    expect(summary).toMatchObject({ status: "applied", done: 60, failed: 0 });
    const puts = s.sandbox.requests(since).filter((r) => r.method === "PUT" && r.path.endsWith("/metadata/checked/"));
    expect(puts.some((r) => r.status === 429)).toBe(true);
    const written = puts.filter((r) => r.status === 200 || r.status === 201).map((r) => r.path.split("/")[2]);
    expect([...written].sort()).toEqual([...files].sort());
  }, 120_000);

  it("refuses a tag policy that touches a hold key, and bad keys and values in users' words", async () => {
    const deps = { db: database.db, now: () => new Date() };
    await createPolicy(deps, {
      projectKey: s.sandbox.publicKey,
      body: { name: "unhold", action: "tag", conditions: [{ kind: "metadata", key: "ucl_campaign", op: "exists" }], tag: { remove: ["ucledger_hold"] } },
      actor: "test",
    });
    await expect(proposePlan(deps, { projectKeys: [s.sandbox.publicKey], policy: "unhold", actor: "p" })).rejects.toThrow(/ucledger_hold is a hold key/);
    const bad = (tag: unknown) =>
      createPolicy(deps, { projectKey: s.sandbox.publicKey, body: { name: "bad", action: "tag", conditions: [{ kind: "metadata", key: "k", op: "exists" }], tag } as never, actor: "t" });
    await expect(bad({ set: { "bad key!": "v" } })).rejects.toThrow(/tag\.set.*keys are 1-64 letters/);
    await expect(bad({ set: { k: "x".repeat(513) } })).rejects.toThrow(/at most 512 characters/);
    await expect(bad({ set: {} })).rejects.toThrow(/must set or remove at least one metadata key/);
  });
});
