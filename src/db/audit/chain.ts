import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import type { EventKind, EventSource } from "../schema/index.ts";
import { canonicalTimestampOrNull } from "../timestamps.ts";
import { canonicalJson } from "./canonical-json.ts";

/** The hash before the first event of every project. */
export const GENESIS_HASH = "0".repeat(64);

export interface NewEvent {
  fileUuid: string | null;
  kind: EventKind;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  occurredAt: string | null;
  observedAt: string;
  source: EventSource;
  runId: string | null;
  planId: string | null;
  actor: string;
}

/** The fields a link's hash covers, in the form that survives a round trip through the table. */
export function eventHash(prevHash: string, projectKey: string, seq: number, event: NewEvent): string {
  const body = canonicalJson({
    projectKey,
    seq,
    fileUuid: event.fileUuid,
    kind: event.kind,
    before: event.before,
    after: event.after,
    occurredAt: canonicalTimestampOrNull(event.occurredAt),
    observedAt: canonicalTimestampOrNull(event.observedAt),
    source: event.source,
    runId: event.runId,
    planId: event.planId,
    actor: event.actor,
  });
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}

/**
 * Takes the project's chain head (creating it at genesis) and holds its row lock
 * until the surrounding transaction ends: the one-writer-at-a-time gate.
 */
export async function lockChainHead(tx: Queryable, projectKey: string): Promise<{ lastSeq: number; lastHash: string }> {
  await tx.execute(
    sql`insert into audit_chain_heads (project_key, last_seq, last_hash) values (${projectKey}, 0, ${GENESIS_HASH}) on conflict do nothing`,
  );
  const [row] = await queryRows<{ last_seq: number | string; last_hash: string }>(
    tx,
    sql`select last_seq, last_hash from audit_chain_heads where project_key = ${projectKey} for update`,
  );
  if (!row) throw new Error(`audit chain head for ${projectKey} could not be read`);
  return { lastSeq: Number(row.last_seq), lastHash: row.last_hash };
}

/**
 * Appends events to the project's chain, one writer at a time: the head row is
 * locked until the surrounding transaction ends, so concurrent writers (other
 * instances, the webhook lane) queue behind it and the chain never forks.
 * Must run inside a transaction.
 */
export async function appendEvents(tx: Queryable, projectKey: string, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const head = await lockChainHead(tx, projectKey);
  let seq = head.lastSeq;
  let prevHash = head.lastHash;

  const cols = {
    seq: [] as number[],
    fileUuid: [] as (string | null)[],
    kind: [] as string[],
    before: [] as (string | null)[],
    after: [] as (string | null)[],
    occurredAt: [] as (string | null)[],
    observedAt: [] as string[],
    source: [] as string[],
    runId: [] as (string | null)[],
    planId: [] as (string | null)[],
    actor: [] as string[],
    prevHash: [] as string[],
    hash: [] as string[],
  };
  for (const event of events) {
    seq += 1;
    const hash = eventHash(prevHash, projectKey, seq, event);
    cols.seq.push(seq);
    cols.fileUuid.push(event.fileUuid);
    cols.kind.push(event.kind);
    cols.before.push(event.before === null ? null : JSON.stringify(event.before));
    cols.after.push(event.after === null ? null : JSON.stringify(event.after));
    cols.occurredAt.push(event.occurredAt);
    cols.observedAt.push(event.observedAt);
    cols.source.push(event.source);
    cols.runId.push(event.runId);
    cols.planId.push(event.planId);
    cols.actor.push(event.actor);
    cols.prevHash.push(prevHash);
    cols.hash.push(hash);
    prevHash = hash;
  }

  await tx.execute(sql`
    insert into file_events (project_key, seq, file_uuid, kind, before, after, occurred_at, observed_at,
                             source, run_id, plan_id, actor, prev_hash, hash)
    select ${projectKey}, seq, file_uuid, kind, before::jsonb, after::jsonb, occurred_at::timestamptz,
           observed_at::timestamptz, source, run_id, plan_id, actor, prev_hash, hash
    from unnest(${sql.param(cols.seq)}::bigint[], ${sql.param(cols.fileUuid)}::uuid[], ${sql.param(cols.kind)}::text[],
                ${sql.param(cols.before)}::text[], ${sql.param(cols.after)}::text[], ${sql.param(cols.occurredAt)}::text[],
                ${sql.param(cols.observedAt)}::text[], ${sql.param(cols.source)}::text[], ${sql.param(cols.runId)}::text[],
                ${sql.param(cols.planId)}::text[], ${sql.param(cols.actor)}::text[], ${sql.param(cols.prevHash)}::text[],
                ${sql.param(cols.hash)}::text[])
      as e(seq, file_uuid, kind, before, after, occurred_at, observed_at, source, run_id, plan_id, actor, prev_hash, hash)`);
  await tx.execute(
    sql`update audit_chain_heads set last_seq = ${seq}, last_hash = ${prevHash} where project_key = ${projectKey}`,
  );
}
