import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvents, type NewEvent } from "../../src/db/audit/chain.ts";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
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
});
