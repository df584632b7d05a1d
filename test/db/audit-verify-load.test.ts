import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvents, type NewEvent } from "../../src/db/audit/chain.ts";
import { verifyChain, type ChainReport } from "../../src/db/audit/verify.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

/**
 * `audit verify` beside a writer that keeps appending: the chain is intact the
 * whole time, so every verify must say so. Before verify read a consistent
 * prefix, 21 runs in 60 reported BROKEN here (a false tamper alarm).
 */
const VERIFIES = 50;
/** Small batches, so one verify spans many round trips with appends landing between them. */
const BATCH_ROWS = 50;

function event(n: number): NewEvent {
  return {
    fileUuid: `00000000-0000-4000-8000-${String(n % 1_000_000).padStart(12, "0")}`,
    kind: "metadata_changed",
    before: { metadata: { n: String(n - 1) } },
    after: { metadata: { n: String(n) } },
    occurredAt: null,
    observedAt: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
    source: "webhook",
    runId: null,
    planId: null,
    actor: "ucledger:sync",
  };
}

/**
 * Appends one or two events per transaction until stopped; `stop` resolves to the number
 * appended. The next transaction queues as soon as one commits, with no pause: on PGlite's
 * one connection it then waits in line with the verifier's queries and lands between them.
 */
function startWriter(database: TestDatabase, projectKey: string, first: number): { stop: () => Promise<number> } {
  let running = true;
  let n = first;
  const done = (async () => {
    while (running) {
      const batch = n % 2 === 0 ? [event(n), event(n + 1)] : [event(n)];
      n += batch.length;
      await database.db.transaction((tx) => appendEvents(tx, projectKey, batch));
    }
    return n - first;
  })();
  return {
    stop: async () => {
      running = false;
      return done;
    },
  };
}

async function headSeq(database: TestDatabase, projectKey: string): Promise<number> {
  const [row] = await queryRows<{ last_seq: number }>(database.db, sql`select last_seq from audit_chain_heads where project_key = ${projectKey}`);
  return Number(row?.last_seq ?? 0);
}

describe.each(backends)("audit verify under a concurrent writer on %s", (kind) => {
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

  it(`gives no false alarm in ${VERIFIES} verifies while events are appended`, async () => {
    const P = "load-intact";
    await seed(P, 150);
    const writer = startWriter(database, P, 151);
    const reports: ChainReport[] = [];
    let appended = 0;
    try {
      for (let i = 0; i < VERIFIES; i++) reports.push(await verifyChain(database.db, P, { batchRows: BATCH_ROWS }));
    } finally {
      appended = await writer.stop();
    }
    expect(reports.filter((r) => !r.ok)).toEqual([]);
    // The writer really ran beside the verifies (how many it fits in depends on the machine's load;
    // the growing head below shows the verifies saw it move).
    expect(appended).toBeGreaterThan(0);
    // Each verify covered the chain as far as its head when it began: never less than the seed, and growing.
    expect(reports[0]!.events).toBeGreaterThanOrEqual(150);
    expect(reports.at(-1)!.events).toBeGreaterThan(reports[0]!.events);
    // Once the writer stopped, a verify covers everything.
    expect(await verifyChain(database.db, P)).toEqual({ projectKey: P, ok: true, events: await headSeq(database, P), broken: null });
  });

  it("still names a tampered link while events are appended", async () => {
    const P = "load-tamper";
    await seed(P, 120);
    await database.db.execute(sql`alter table file_events disable trigger file_events_append_only`);
    try {
      await database.db.execute(sql`update file_events set after = '{"metadata": {"n": "forged"}}'::jsonb where project_key = ${P} and seq = 77`);
    } finally {
      await database.db.execute(sql`alter table file_events enable trigger file_events_append_only`);
    }
    const writer = startWriter(database, P, 121);
    const reports: ChainReport[] = [];
    try {
      for (let i = 0; i < 10; i++) reports.push(await verifyChain(database.db, P, { batchRows: BATCH_ROWS }));
    } finally {
      await writer.stop();
    }
    for (const report of reports) {
      expect(report).toMatchObject({ ok: false, events: 76, broken: { seq: 77, reason: "the event's content does not match its hash" } });
    }
  });

  it("names events appended past the chain head, and a chain head that was set back", async () => {
    const P = "load-beyond";
    await seed(P, 5);
    // A row slipped in at the end without moving the head: the next sequence number, chained correctly.
    const [last] = await queryRows<{ hash: string }>(database.db, sql`select hash from file_events where project_key = ${P} and seq = 5`);
    const { eventHash } = await import("../../src/db/audit/chain.ts");
    const forged = event(6);
    const hash = eventHash(last!.hash, P, 6, forged);
    await database.db.execute(sql`insert into file_events (project_key, seq, file_uuid, kind, before, after, occurred_at, observed_at, source, run_id, plan_id, actor, prev_hash, hash)
      values (${P}, 6, ${forged.fileUuid}::uuid, ${forged.kind}, ${JSON.stringify(forged.before)}::jsonb, ${JSON.stringify(forged.after)}::jsonb, null,
        ${forged.observedAt}::timestamptz, ${forged.source}, null, null, ${forged.actor}, ${last!.hash}, ${hash})`);
    expect(await verifyChain(database.db, P)).toEqual({
      projectKey: P,
      ok: false,
      events: 5,
      broken: { seq: 6, reason: "event 6 is beyond the chain head, which records 5 events" },
    });

    const Q = "load-head-back";
    await seed(Q, 5);
    await database.db.execute(sql`update audit_chain_heads set last_seq = 3, last_hash = (select hash from file_events where project_key = ${Q} and seq = 3) where project_key = ${Q}`);
    expect((await verifyChain(database.db, Q)).broken).toEqual({ seq: 4, reason: "event 4 is beyond the chain head, which records 3 events" });
  });
});
