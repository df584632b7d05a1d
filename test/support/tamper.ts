import { sql } from "drizzle-orm";
import { eventHash, GENESIS_HASH, type NewEvent } from "../../src/db/audit/chain.ts";
import type { Db } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import type { EventKind, EventSource } from "../../src/db/schema/index.ts";

/**
 * What a database owner could do to the audit trail, for tests that show it is
 * caught: runs `body` with the append-only triggers of file_events and
 * audit_anchors switched off (the tests run as the superuser).
 */
export async function withGuardsOff(db: Db, body: () => Promise<unknown>): Promise<void> {
  await db.execute(sql`alter table file_events disable trigger user`);
  await db.execute(sql`alter table audit_anchors disable trigger user`);
  try {
    await body();
  } finally {
    await db.execute(sql`alter table file_events enable trigger user`);
    await db.execute(sql`alter table audit_anchors enable trigger user`);
  }
}

/** Alters event `alteredSeq`'s actor and re-hashes every link from genesis with the public hash function, head included. */
export async function rechain(db: Db, projectKey: string, alteredSeq: number): Promise<void> {
  const rows = await queryRows<{
    seq: string | number; file_uuid: string | null; kind: EventKind; before: Record<string, unknown> | null; after: Record<string, unknown> | null;
    occurred_at: string | null; observed_at: string; source: EventSource; run_id: string | null; plan_id: string | null; actor: string;
  }>(db, sql`select seq, file_uuid, kind, before, after, occurred_at::text as occurred_at, observed_at::text as observed_at,
      source, run_id, plan_id, actor from file_events where project_key = ${projectKey} order by seq`);
  await withGuardsOff(db, async () => {
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const seq = Number(row.seq);
      const ev: NewEvent = {
        fileUuid: row.file_uuid, kind: row.kind, before: row.before, after: row.after, occurredAt: row.occurred_at, observedAt: row.observed_at,
        source: row.source, runId: row.run_id, planId: row.plan_id, actor: seq === alteredSeq ? "mallory" : row.actor,
      };
      const hash = eventHash(prev, projectKey, seq, ev);
      await db.execute(sql`update file_events set actor = ${ev.actor}, prev_hash = ${prev}, hash = ${hash} where project_key = ${projectKey} and seq = ${seq}`);
      prev = hash;
    }
    await db.execute(sql`update audit_chain_heads set last_hash = ${prev} where project_key = ${projectKey}`);
  });
}
