import { sql } from "drizzle-orm";
import type { KeyObject } from "node:crypto";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { dateToTimestamp } from "../timestamps.ts";
import { keyIdOf, parsePublicKey } from "./anchor-key.ts";
import { checkSignature, readAnchors, type Anchor } from "./anchors.ts";
import { readHead, verifyChain, type ChainReport } from "./verify.ts";

export type AnchorProblemKind = "bad_signature" | "unknown_key" | "hash_mismatch" | "event_missing" | "truncated" | "wiped";

export interface AnchorProblem {
  kind: AnchorProblemKind;
  /** The anchored position. */
  seq: number;
  takenAt: string;
  keyId: string;
  /** Where the anchor was read: the database's table, or the file given with `--anchors`. */
  origin: "database" | "file";
  message: string;
}

export interface AnchoredReport {
  projectKey: string;
  /** The chain holds and agrees with every anchor. */
  ok: boolean;
  chain: ChainReport;
  /** Where the walk began: 0 from genesis, else the verified anchor it went on from. */
  walkedFrom: number;
  anchors: {
    database: number;
    file: number;
    /** False when no public key is known: positions were compared, signatures not. */
    signaturesChecked: boolean;
    /** The newest anchor that holds (signature, and the stored event's hash). */
    latest: { seq: number; hash: string; takenAt: string } | null;
  };
  /** Oldest first, at most MAX_PROBLEMS; `moreProblems` counts the rest. */
  problems: AnchorProblem[];
  moreProblems: number;
}

export interface AnchorVerifyOptions {
  /** Public keys (PEM or base64 SPKI): plain data, so this can run in a worker. Empty: signatures are not checked. */
  publicKeys: string[];
  /** Anchors from an exported file (any projects; this project's are used). */
  fileAnchors?: Anchor[];
  /** Walk from genesis and check every anchor, ignoring the last verified position. */
  full?: boolean;
  /** Record the newest anchor reached as the next run's starting point (default true). */
  remember?: boolean;
  now?: Date;
  batchRows?: number;
}

const MAX_PROBLEMS = 20;
const LOOKUP_BATCH = 5_000;

interface Mark {
  seq: number;
  hash: string;
}

async function readMark(db: Queryable, projectKey: string): Promise<Mark | null> {
  const [row] = await queryRows<{ seq: number | string; hash: string }>(db, sql`select seq, hash from audit_verify_marks where project_key = ${projectKey}`);
  return row ? { seq: Number(row.seq), hash: row.hash } : null;
}

async function writeMark(db: Queryable, projectKey: string, mark: Mark, now: Date): Promise<void> {
  await db.execute(sql`
    insert into audit_verify_marks (project_key, seq, hash, verified_at) values (${projectKey}, ${mark.seq}, ${mark.hash}, ${dateToTimestamp(now)}::timestamptz)
    on conflict (project_key) do update set seq = excluded.seq, hash = excluded.hash, verified_at = excluded.verified_at`);
}

async function storedHashes(db: Queryable, projectKey: string, seqs: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const unique = [...new Set(seqs)];
  for (let i = 0; i < unique.length; i += LOOKUP_BATCH) {
    const chunk = unique.slice(i, i + LOOKUP_BATCH);
    const rows = await queryRows<{ seq: number | string; hash: string }>(
      db,
      sql`select seq, hash from file_events where project_key = ${projectKey} and seq = any(${sql.param(chunk)}::bigint[])`,
    );
    for (const row of rows) out.set(Number(row.seq), row.hash);
  }
  return out;
}

const short = (hash: string) => hash.slice(0, 12);

/**
 * Checks a project's chain against its anchors (the table's, and an exported
 * file's): every anchor's signature, and that the chain still holds the anchored
 * hash at each anchored position. A re-chain changes the hash there, a truncated
 * tail leaves the head below an anchor, a wiped project has anchors but no events.
 *
 * Incremental by default: the walk starts at the last verified anchor (recorded
 * in audit_verify_marks by the previous run) and only anchors from there on are
 * read, so the cost follows the new events. That anchor must still hold — a
 * valid signature and the stored event's hash — or the walk starts at genesis.
 * An anchor vouches for the links before it as they were when it was taken; an
 * edit that leaves stored hashes alone below it is found by a `full` walk.
 */
export async function verifyAgainstAnchors(db: Queryable, projectKey: string, options: AnchorVerifyOptions): Promise<AnchoredReport> {
  const keys = new Map<string, KeyObject>();
  for (const text of options.publicKeys) {
    const key = parsePublicKey(text);
    keys.set(keyIdOf(key), key);
  }
  const signaturesChecked = keys.size > 0;
  const head = await readHead(db, projectKey);
  const headSeq = head?.lastSeq ?? 0;

  // Without keys a mark could name an anchor nobody signed: walk from genesis then.
  let mark = options.full || !signaturesChecked ? null : await readMark(db, projectKey);
  let fromDb = await readAnchors(db, projectKey, mark?.seq ?? 0);
  const backs = (a: Anchor) => mark !== null && a.seq === mark.seq && a.hash === mark.hash && checkSignature(a, keys) === "valid";
  // The mark must name a signed anchor whose event still holds its hash; else every anchor is checked.
  if (mark && (!fromDb.some(backs) || (await storedHashes(db, projectKey, [mark.seq])).get(mark.seq) !== mark.hash)) {
    mark = null;
    fromDb = await readAnchors(db, projectKey, 0);
  }
  const fileOwn = (options.fileAnchors ?? []).filter((a) => a.projectKey === projectKey);
  const seen = new Set(fromDb.map((a) => `${a.seq}/${a.keyId}/${a.signature}`));
  const tagged = [
    ...fromDb.map((a) => ({ anchor: a, origin: "database" as const })),
    ...fileOwn.filter((a) => !seen.has(`${a.seq}/${a.keyId}/${a.signature}`)).map((a) => ({ anchor: a, origin: "file" as const })),
  ].sort((x, y) => x.anchor.seq - y.anchor.seq);

  const problems: AnchorProblem[] = [];
  const problem = (t: (typeof tagged)[number], kind: AnchorProblemKind, message: string) =>
    problems.push({ kind, seq: t.anchor.seq, takenAt: t.anchor.takenAt, keyId: t.anchor.keyId, origin: t.origin, message });

  // 1. Signatures: an anchor that does not carry a known key's signature vouches for nothing.
  const trusted = tagged.filter((t) => {
    if (!signaturesChecked) return true;
    const check = checkSignature(t.anchor, keys);
    if (check === "invalid") problem(t, "bad_signature", `the anchor at event ${t.anchor.seq} (taken ${t.anchor.takenAt}, ${t.origin}) does not carry key ${t.anchor.keyId}'s signature: forged or altered`);
    if (check === "unknown_key") problem(t, "unknown_key", `the anchor at event ${t.anchor.seq} (taken ${t.anchor.takenAt}, ${t.origin}) is signed by key ${t.anchor.keyId}, which is not configured (UCLEDGER_AUDIT_KEY / UCLEDGER_AUDIT_PUBLIC_KEY)`);
    return check === "valid";
  });

  let chain: ChainReport;
  let walkedFrom = 0;
  let latest: AnchoredReport["anchors"]["latest"] = null;
  const [any] = headSeq === 0 ? await queryRows<{ one: number }>(db, sql`select 1 as one from file_events where project_key = ${projectKey} limit 1`) : [{ one: 1 }];
  if (headSeq === 0 && !any && trusted.length > 0) {
    // 2. A wiped project: anchors vouch for events that are all gone.
    const top = trusted[trusted.length - 1]!;
    problem(top, "wiped", `the project's audit trail is gone: no events, but ${trusted.length} anchor(s) vouch for events up to ${top.anchor.seq} (the newest taken ${top.anchor.takenAt})`);
    chain = { projectKey, ok: true, events: 0, broken: null };
  } else {
    // 3. A head below an anchor: the tail was cut off and the head moved back to match.
    const beyond = trusted.filter((t) => t.anchor.seq > headSeq);
    if (beyond.length > 0) {
      const top = beyond[beyond.length - 1]!;
      problem(
        top,
        "truncated",
        `the chain head records ${headSeq} events, but ${beyond.length} anchor(s) vouch for more, up to event ${top.anchor.seq} (hash ${short(top.anchor.hash)}…, taken ${top.anchor.takenAt}): events after ${headSeq} were removed`,
      );
    }
    // 4. Each anchored position must still hold the anchored hash.
    const within = trusted.filter((t) => t.anchor.seq <= headSeq);
    const stored = await storedHashes(db, projectKey, within.map((t) => t.anchor.seq));
    const holding: Anchor[] = [];
    for (const t of within) {
      const hash = stored.get(t.anchor.seq);
      if (hash === undefined) problem(t, "event_missing", `event ${t.anchor.seq}, which the anchor taken ${t.anchor.takenAt} vouches for, is missing`);
      else if (hash !== t.anchor.hash) {
        problem(t, "hash_mismatch", `event ${t.anchor.seq}'s hash (${short(hash)}…) is not the anchored one (${short(t.anchor.hash)}…, taken ${t.anchor.takenAt}): the chain was rewritten at or before event ${t.anchor.seq}`);
      } else holding.push(t.anchor);
    }
    const start = mark && holding.some((a) => a.seq === mark!.seq && a.hash === mark!.hash) ? mark : null;
    walkedFrom = start?.seq ?? 0;
    chain = await verifyChain(db, projectKey, { ...(start ? { from: start } : {}), ...(options.batchRows ? { batchRows: options.batchRows } : {}) });
    const newest = holding.filter((a) => a.seq <= chain.events).at(-1);
    if (newest) latest = { seq: newest.seq, hash: newest.hash, takenAt: newest.takenAt };
  }

  problems.sort((a, b) => a.seq - b.seq);
  const ok = chain.ok && problems.length === 0;
  if (ok && signaturesChecked && latest && options.remember !== false && (!mark || latest.seq > mark.seq)) {
    await writeMark(db, projectKey, latest, options.now ?? new Date());
  }
  return {
    projectKey,
    ok,
    chain,
    walkedFrom,
    anchors: { database: fromDb.length, file: fileOwn.length, signaturesChecked, latest },
    problems: problems.slice(0, MAX_PROBLEMS),
    moreProblems: Math.max(0, problems.length - MAX_PROBLEMS),
  };
}
