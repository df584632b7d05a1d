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
export interface ChainHead {
  lastSeq: number;
  lastHash: string;
}

export async function lockChainHead(tx: Queryable, projectKey: string): Promise<ChainHead> {
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
export async function appendEvents(
  tx: Queryable,
  projectKey: string,
  events: NewEvent[],
  /** The head this transaction already locked, so the lock is not taken twice. */
  lockedHead?: ChainHead,
): Promise<void> {
  if (events.length === 0) return;
  const head = lockedHead ?? (await lockChainHead(tx, projectKey));
  const { rows, next } = chainLinks(head, projectKey, events);

  // The batch travels as one JSON parameter: cheaper than arrays of escaped JSON texts.
  await tx.execute(sql`
    insert into file_events (project_key, seq, file_uuid, kind, before, after, occurred_at, observed_at,
                             source, run_id, plan_id, actor, prev_hash, hash)
    select ${projectKey}, e.seq, e.file_uuid, e.kind, e.before, e.after, e.occurred_at, e.observed_at,
           e.source, e.run_id, e.plan_id, e.actor, e.prev_hash, e.hash
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as e(seq bigint, file_uuid uuid, kind text, before jsonb, after jsonb, occurred_at timestamptz,
           observed_at timestamptz, source text, run_id text, plan_id text, actor text, prev_hash text, hash text)`);
  await moveChainHead(tx, projectKey, next);
}

/** One event as it is stored: its place in the chain and the hash that links it. */
export interface ChainLink {
  seq: number;
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

/** Gives each event the next place after `head` and links it to the one before. */
export function chainLinks(head: ChainHead, projectKey: string, events: NewEvent[]): { rows: ChainLink[]; next: ChainHead } {
  let seq = head.lastSeq;
  let prevHash = head.lastHash;
  const rows = events.map((event): ChainLink => {
    seq += 1;
    const hash = eventHash(prevHash, projectKey, seq, event);
    const row: ChainLink = {
      seq,
      file_uuid: event.fileUuid,
      kind: event.kind,
      before: event.before,
      after: event.after,
      occurred_at: event.occurredAt,
      observed_at: event.observedAt,
      source: event.source,
      run_id: event.runId,
      plan_id: event.planId,
      actor: event.actor,
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  return { rows, next: { lastSeq: seq, lastHash: prevHash } };
}

/** Moves the locked head to the last link appended. */
export async function moveChainHead(tx: Queryable, projectKey: string, head: ChainHead): Promise<void> {
  await tx.execute(
    sql`update audit_chain_heads set last_seq = ${head.lastSeq}, last_hash = ${head.lastHash} where project_key = ${projectKey}`,
  );
}
