import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import type { EventKind, EventSource } from "../schema/index.ts";
import { withoutProtoKeys } from "./canonical-json.ts";
import { eventHash, GENESIS_HASH, type NewEvent } from "./chain.ts";

export interface ChainReport {
  projectKey: string;
  ok: boolean;
  /** Events verified: the chain as far as its head when the check began. */
  events: number;
  /** The first link that does not hold, when one does not. */
  broken: { seq: number; reason: string } | null;
  /**
   * Events whose hash was written before keys named `__proto__` were hashed (they
   * hold such a key, and their hash covers everything but it). Absent when none.
   */
  legacyHashed?: { events: number; firstSeq: number };
}

export interface VerifyOptions {
  /** Rows read per round trip (default 5,000): bounded memory whatever the chain's length. */
  batchRows?: number;
  /**
   * Walk from this verified position instead of genesis: a signed anchor's
   * `(seq, hash)` (src/db/audit/anchor-verify.ts). The event at `seq` must still
   * carry `hash`; the links before it are what the anchor vouches for.
   */
  from?: { seq: number; hash: string };
}

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

export interface Head {
  lastSeq: number;
  lastHash: string;
}

export async function readHead(db: Queryable, projectKey: string): Promise<Head | null> {
  const [row] = await queryRows<{ last_seq: number | string; last_hash: string }>(
    db,
    sql`select last_seq, last_hash from audit_chain_heads where project_key = ${projectKey}`,
  );
  return row ? { lastSeq: Number(row.last_seq), lastHash: row.last_hash } : null;
}

/**
 * Walks a project's chain from the genesis hash and names the first broken link.
 *
 * It checks the chain as it stood when the check began, without a transaction: the
 * head is read first, then the events up to it. A writer appends events and moves the
 * head in one transaction, and committed events never change (file_events refuses
 * UPDATE and DELETE), so the events up to that head are exactly what was committed
 * with it, however many appends commit while the walk goes on. Reading the head last
 * (as this once did) compared an older walk with a newer head: a false alarm under
 * load. No long transaction either, which on PGlite's one connection would hold up
 * every other query of the process until the walk ends.
 */
export async function verifyChain(db: Queryable, projectKey: string, options: VerifyOptions = {}): Promise<ChainReport> {
  const batchRows = options.batchRows ?? VERIFY_BATCH;
  const head = await readHead(db, projectKey);
  const upTo = head?.lastSeq ?? 0;

  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let legacy: { events: number; firstSeq: number } | undefined;
  const fail = (seq: number, reason: string): ChainReport => ({
    projectKey,
    ok: false,
    events: expectedSeq - 1,
    broken: { seq, reason },
    ...(legacy ? { legacyHashed: legacy } : {}),
  });

  if (options.from && options.from.seq > 0) {
    const { seq, hash } = options.from;
    if (seq > upTo) return fail(upTo + 1, `the chain head records ${upTo} events, fewer than the ${seq} already verified`);
    const [row] = await queryRows<{ hash: string }>(db, sql`select hash from file_events where project_key = ${projectKey} and seq = ${seq}`);
    if (!row) return fail(seq, `event ${seq}, already verified, is missing`);
    if (row.hash !== hash) return fail(seq, `event ${seq}'s hash is not the one verified before`);
    expectedSeq = seq + 1;
    prevHash = hash;
  }

  while (expectedSeq <= upTo) {
    const rows = await queryRows<EventRow>(db, sql`
      select seq, file_uuid, kind, before, after, occurred_at::text as occurred_at, observed_at::text as observed_at,
             source, run_id, plan_id, actor, prev_hash, hash
      from file_events where project_key = ${projectKey} and seq >= ${expectedSeq} and seq <= ${upTo}
      order by seq limit ${batchRows}`);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return fail(expectedSeq, `event ${expectedSeq} is missing (next is ${seq})`);
      if (row.prev_hash !== prevHash) return fail(seq, "prev_hash does not match the hash of the event before");
      const event: NewEvent = {
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
      };
      if (eventHash(prevHash, projectKey, seq, event) !== row.hash) {
        if (!legacyHashMatches(prevHash, projectKey, seq, event, row.hash)) return fail(seq, "the event's content does not match its hash");
        legacy = { events: (legacy?.events ?? 0) + 1, firstSeq: legacy?.firstSeq ?? seq };
      }
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < batchRows) break;
  }

  const lastSeq = expectedSeq - 1;
  if (head && lastSeq < upTo) return fail(lastSeq + 1, `the chain head records ${upTo} events but ${lastSeq} are present`);
  if (head && upTo > 0 && head.lastHash !== prevHash) return fail(upTo, `the chain head's hash is not the hash of event ${upTo}`);

  // Events past the head: either appended since the head was read (and the head has
  // moved past them by now, since both commit together) or slipped in without it.
  // Reading the highest sequence number before the head again keeps that test exact.
  const [tail] = await queryRows<{ max_seq: number | string | null }>(
    db,
    sql`select max(seq) as max_seq from file_events where project_key = ${projectKey} and seq > ${upTo}`,
  );
  const beyond = tail?.max_seq === null || tail?.max_seq === undefined ? null : Number(tail.max_seq);
  if (beyond !== null) {
    const now = await readHead(db, projectKey);
    if (!now) return fail(1, "the project has events but no chain head");
    if (beyond > now.lastSeq) {
      return fail(now.lastSeq + 1, `event ${now.lastSeq + 1} is beyond the chain head, which records ${now.lastSeq} events`);
    }
  }
  return { projectKey, ok: true, events: lastSeq, broken: null, ...(legacy ? { legacyHashed: legacy } : {}) };
}

/**
 * Whether the hash is the one written before canonical JSON kept keys named `__proto__`:
 * it then covered the event without them. Accepting it holds no gap open: a hash
 * written since covers those keys, and stripping them from such an event gives a
 * different hash, so an altered `__proto__` value there is still caught.
 */
function legacyHashMatches(prevHash: string, projectKey: string, seq: number, event: NewEvent, hash: string): boolean {
  const before = withoutProtoKeys(event.before);
  const after = withoutProtoKeys(event.after);
  if (before === event.before && after === event.after) return false;
  return eventHash(prevHash, projectKey, seq, { ...event, before, after }) === hash;
}
