import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import type { EventKind, EventSource } from "../schema/index.ts";
import { eventHash, GENESIS_HASH } from "./chain.ts";

export interface ChainReport {
  projectKey: string;
  ok: boolean;
  events: number;
  /** The first link that does not hold, when one does not. */
  broken: { seq: number; reason: string } | null;
}

/** Rows read per round trip: bounded memory whatever the chain's length. */
const VERIFY_BATCH = 5_000;

interface EventRow {
  seq: number | string;
  file_uuid: string | null;
  kind: EventKind;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  occurred_at: string | null;
  observed_at: string;
  source: EventSource;
  run_id: string | null;
  plan_id: string | null;
  actor: string;
  prev_hash: string;
  hash: string;
}

/** Walks a project's chain from the genesis hash and names the first broken link. */
export async function verifyChain(db: Queryable, projectKey: string): Promise<ChainReport> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const fail = (seq: number, reason: string): ChainReport => ({
    projectKey,
    ok: false,
    events: expectedSeq - 1,
    broken: { seq, reason },
  });

  for (;;) {
    const rows = await queryRows<EventRow>(db, sql`
      select seq, file_uuid, kind, before, after, occurred_at::text as occurred_at, observed_at::text as observed_at,
             source, run_id, plan_id, actor, prev_hash, hash
      from file_events where project_key = ${projectKey} and seq >= ${expectedSeq}
      order by seq limit ${VERIFY_BATCH}`);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return fail(expectedSeq, `event ${expectedSeq} is missing (next is ${seq})`);
      if (row.prev_hash !== prevHash) return fail(seq, "prev_hash does not match the hash of the event before");
      const recomputed = eventHash(prevHash, projectKey, seq, {
        fileUuid: row.file_uuid,
        kind: row.kind,
        before: row.before,
        after: row.after,
        occurredAt: row.occurred_at,
        observedAt: row.observed_at,
        source: row.source,
        runId: row.run_id,
        planId: row.plan_id,
        actor: row.actor,
      });
      if (recomputed !== row.hash) return fail(seq, "the event's content does not match its hash");
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < VERIFY_BATCH) break;
  }

  const [headRow] = await queryRows<{ last_seq: number | string; last_hash: string }>(
    db,
    sql`select last_seq, last_hash from audit_chain_heads where project_key = ${projectKey}`,
  );
  const lastSeq = expectedSeq - 1;
  if (headRow && (Number(headRow.last_seq) !== lastSeq || headRow.last_hash !== prevHash)) {
    return fail(lastSeq + 1, `the chain head records ${headRow.last_seq} events but ${lastSeq} are present`);
  }
  if (!headRow && lastSeq > 0) return fail(1, "the project has events but no chain head");
  return { projectKey, ok: true, events: lastSeq, broken: null };
}
