import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, sameJson, withoutProtoKeys } from "../../src/db/audit/canonical-json.ts";
import { appendEvents, eventHash, lockChainHead, type NewEvent } from "../../src/db/audit/chain.ts";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

function event(n: number, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    fileUuid: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    kind: "uploaded",
    before: null,
    after: { size: n, metadata: { b: "2", a: "1" }, note: "ünïcødé ✓" },
    occurredAt: "2026-11-01T10:00:00.123456Z",
    observedAt: "2026-11-02T10:00:00.5Z",
    source: "sync",
    runId: "run-1",
    planId: null,
    actor: "ucledger:sync",
    ...overrides,
  };
}

/** `{"__proto__": …}` as JSON.parse, jsonb and Uploadcare's API give it: an own key, not a prototype. */
const protoKey = (value: unknown, rest: Record<string, unknown> = {}) => ({ ...JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`), ...rest }) as Record<string, unknown>;

describe("canonical JSON", () => {
  it("keeps a key named __proto__ like any other, at every level", () => {
    expect(canonicalJson(protoKey("a"))).toBe('{"__proto__":"a"}');
    expect(canonicalJson({ metadata: protoKey({ z: 1, a: 2 }, { b: "x" }) })).toBe('{"metadata":{"__proto__":{"a":2,"z":1},"b":"x"}}');
    expect(sameJson(protoKey("a"), protoKey("b"))).toBe(false);
    expect(sameJson(protoKey("a"), {})).toBe(false);
    expect(sameJson({ m: [protoKey("a")] }, { m: [{}] })).toBe(false);
    expect(sameJson(protoKey("a", { k: "v" }), JSON.parse('{"k": "v", "__proto__": "a"}'))).toBe(true);
  });

  it("writes what it wrote before for anything without such a key", () => {
    const value = { b: [3, { y: null, x: "ü" }], a: 1, 10: "ten", 9: "nine", u: undefined };
    expect(canonicalJson(value)).toBe('{"9":"nine","10":"ten","a":1,"b":[3,{"x":"ü","y":null}]}');
    expect(withoutProtoKeys(value)).toBe(value);
    expect(withoutProtoKeys({ m: [protoKey("a", { k: "v" })] })).toEqual({ m: [{ k: "v" }] });
  });
});

describe.each(backends)("audit chain on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function seed(projectKey: string, count: number) {
    await registerProjects(database.db, [{ projectKey, name: projectKey, isDemo: false }]);
    await database.db.transaction((tx) => appendEvents(tx, projectKey, Array.from({ length: count }, (_, i) => event(i + 1))));
  }

  it("verifies a clean chain across batches and round trips through jsonb and timestamptz", async () => {
    await seed("chain-clean", 7);
    await database.db.transaction((tx) => appendEvents(tx, "chain-clean", [event(8, { kind: "stored", before: { x: null } })]));
    expect(await verifyChain(database.db, "chain-clean")).toEqual({ projectKey: "chain-clean", ok: true, events: 8, broken: null });
  });

  it("refuses UPDATE, DELETE and TRUNCATE on the audit trail", async () => {
    await seed("chain-guard", 2);
    await expect(database.db.execute(sql`update file_events set actor = 'x' where project_key = 'chain-guard'`)).rejects.toThrow();
    await expect(database.db.execute(sql`delete from file_events where project_key = 'chain-guard'`)).rejects.toThrow();
    await expect(database.db.execute(sql`truncate file_events`)).rejects.toThrow();
    expect((await verifyChain(database.db, "chain-guard")).ok).toBe(true);
  });

  it("names the first tampered link when a superuser disables the guard and edits a row", async () => {
    await seed("chain-tamper", 5);
    await database.db.execute(sql`alter table file_events disable trigger file_events_append_only`);
    try {
      await database.db.execute(sql`update file_events set actor = 'mallory' where project_key = 'chain-tamper' and seq = 3`);
    } finally {
      await database.db.execute(sql`alter table file_events enable trigger file_events_append_only`);
    }
    const report = await verifyChain(database.db, "chain-tamper");
    expect(report.ok).toBe(false);
    expect(report.broken).toEqual({ seq: 3, reason: "the event's content does not match its hash" });
  });

  it("names a removed link and a removed tail", async () => {
    await seed("chain-gap", 4);
    await seed("chain-tail", 4);
    await database.db.execute(sql`alter table file_events disable trigger file_events_append_only`);
    try {
      await database.db.execute(sql`delete from file_events where project_key = 'chain-gap' and seq = 2`);
      await database.db.execute(sql`delete from file_events where project_key = 'chain-tail' and seq = 4`);
    } finally {
      await database.db.execute(sql`alter table file_events enable trigger file_events_append_only`);
    }
    expect((await verifyChain(database.db, "chain-gap")).broken).toEqual({ seq: 2, reason: "event 2 is missing (next is 3)" });
    expect((await verifyChain(database.db, "chain-tail")).broken?.seq).toBe(4);
  });

  it("keeps one chain per project, gap-free, under concurrent writers", async () => {
    await registerProjects(database.db, [{ projectKey: "chain-race", name: "race", isDemo: false }]);
    await Promise.all(
      Array.from({ length: 6 }, (_, w) =>
        database.db.transaction((tx) => appendEvents(tx, "chain-race", [event(w * 10 + 1), event(w * 10 + 2)])),
      ),
    );
    expect(await verifyChain(database.db, "chain-race")).toMatchObject({ ok: true, events: 12 });
  });
  it("hashes a metadata key named __proto__: altering it afterwards breaks the chain", async () => {
    await seed("chain-proto", 2);
    const metadata = protoKey("a", { team: "blue" });
    await database.db.transaction((tx) =>
      appendEvents(tx, "chain-proto", [event(3, { kind: "metadata_changed", before: { metadata: {} }, after: { metadata } })]),
    );
    expect(await verifyChain(database.db, "chain-proto")).toEqual({ projectKey: "chain-proto", ok: true, events: 3, broken: null });
    const [stored] = await queryRows<{ value: string }>(database.db, sql`select after -> 'metadata' ->> '__proto__' as value from file_events where project_key = 'chain-proto' and seq = 3`);
    expect(stored?.value).toBe("a");

    await database.db.execute(sql`alter table file_events disable trigger file_events_append_only`);
    try {
      await database.db.execute(
        sql`update file_events set after = jsonb_set(after, '{metadata,__proto__}', '"b"') where project_key = 'chain-proto' and seq = 3`,
      );
    } finally {
      await database.db.execute(sql`alter table file_events enable trigger file_events_append_only`);
    }
    expect((await verifyChain(database.db, "chain-proto")).broken).toEqual({ seq: 3, reason: "the event's content does not match its hash" });
  });

  it("accepts, and counts, a link hashed before __proto__ keys were, and still catches a change elsewhere in it", async () => {
    const P = "chain-proto-legacy";
    await seed(P, 1);
    // Written as the ledger did before: the hash covers the event without its __proto__ key.
    const legacy = event(2, { kind: "metadata_changed", before: { metadata: {} }, after: { metadata: protoKey("a", { team: "blue" }) } });
    await database.db.transaction(async (tx) => {
      const head = await lockChainHead(tx, P);
      const hash = eventHash(head.lastHash, P, 2, { ...legacy, after: withoutProtoKeys(legacy.after) });
      await tx.execute(sql`insert into file_events (project_key, seq, file_uuid, kind, before, after, occurred_at, observed_at, source, run_id, plan_id, actor, prev_hash, hash)
        values (${P}, 2, ${legacy.fileUuid}::uuid, ${legacy.kind}, ${JSON.stringify(legacy.before)}::jsonb, ${JSON.stringify(legacy.after)}::jsonb,
          ${legacy.occurredAt}::timestamptz, ${legacy.observedAt}::timestamptz, ${legacy.source}, ${legacy.runId}, null, ${legacy.actor}, ${head.lastHash}, ${hash})`);
      await tx.execute(sql`update audit_chain_heads set last_seq = 2, last_hash = ${hash} where project_key = ${P}`);
    });
    await database.db.transaction((tx) => appendEvents(tx, P, [event(3)]));
    expect(await verifyChain(database.db, P)).toEqual({ projectKey: P, ok: true, events: 3, broken: null, legacyHashed: { events: 1, firstSeq: 2 } });

    await database.db.execute(sql`alter table file_events disable trigger file_events_append_only`);
    try {
      await database.db.execute(sql`update file_events set after = jsonb_set(after, '{metadata,team}', '"red"') where project_key = ${P} and seq = 2`);
    } finally {
      await database.db.execute(sql`alter table file_events enable trigger file_events_append_only`);
    }
    expect((await verifyChain(database.db, P)).broken).toEqual({ seq: 2, reason: "the event's content does not match its hash" });
  });
});
