import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { isoColumn } from "../queries/iso.ts";
import { pageAcrossProjects, type KeysetOrder, type KeysetPosition } from "../queries/keyset.ts";
import { queryRows } from "../query.ts";
import { canonicalTimestamp, dateToTimestamp } from "../timestamps.ts";
import { signatureHolds, type AnchorSigner } from "./anchor-key.ts";
import type { KeyObject } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import { readHead, verifyChain } from "./verify.ts";

/**
 * Anchors: a project's chain head `(seq, hash)` at a time, signed with a key
 * held outside the database. The hash chain alone cannot show a truncated tail
 * with the head moved back, a wiped project, or a chain re-hashed from genesis
 * (the hash function is public and unkeyed); an anchor can, since nobody
 * without the key can make one for the altered chain.
 */
export interface Anchor {
  projectKey: string;
  seq: number;
  hash: string;
  /** Canonical `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  takenAt: string;
  keyId: string;
  signature: string;
}

/** What a signature covers: fixed key order (canonical JSON) behind a version tag. */
export function anchorText(anchor: Omit<Anchor, "signature">): string {
  return `ucledger-audit-anchor-v1\n${canonicalJson({
    project: anchor.projectKey,
    seq: anchor.seq,
    hash: anchor.hash,
    takenAt: canonicalTimestamp(anchor.takenAt),
    keyId: anchor.keyId,
  })}`;
}

export type SignatureCheck = "valid" | "invalid" | "unknown_key";

export function checkSignature(anchor: Anchor, publicKeys: Map<string, KeyObject>): SignatureCheck {
  const key = publicKeys.get(anchor.keyId);
  if (!key) return "unknown_key";
  return signatureHolds(key, anchorText(anchor), anchor.signature) ? "valid" : "invalid";
}

interface AnchorRow {
  project_key: string;
  seq: number | string;
  hash: string;
  taken_at: string;
  key_id: string;
  signature: string;
}

const COLUMNS = sql.raw(`project_key, seq, hash, ${isoColumn("taken_at")}, key_id, signature`);

function toAnchor(row: AnchorRow): Anchor {
  return { projectKey: row.project_key, seq: Number(row.seq), hash: row.hash, takenAt: row.taken_at, keyId: row.key_id, signature: row.signature };
}

/** Newest first: by chain position, then key. */
export const ANCHOR_ORDER: KeysetOrder = {
  lead: [{ expr: sql`audit_anchors.seq`, cast: "bigint", field: "seq" }],
  tie: { expr: sql`audit_anchors.key_id`, cast: "text", field: "key_id" },
  direction: "desc",
};

/** A keyset page of anchors across projects, newest first. */
export async function listAnchors(
  db: Queryable,
  query: { projects: string[]; after: KeysetPosition | null; limit: number },
): Promise<{ items: Anchor[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<AnchorRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: sql`audit_anchors`,
    where: [],
    order: ANCHOR_ORDER,
    projects: query.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toAnchor), next: page.next };
}

/** A project's anchors from `minSeq` on, oldest first. */
export async function readAnchors(db: Queryable, projectKey: string, minSeq = 0): Promise<Anchor[]> {
  const rows = await queryRows<AnchorRow>(
    db,
    sql`select ${COLUMNS} from audit_anchors where project_key = ${projectKey} and seq >= ${minSeq} order by seq, key_id`,
  );
  return rows.map(toAnchor);
}

/** The newest anchors of a project (for the weekly report), newest first. */
export async function latestAnchors(db: Queryable, projectKey: string, limit: number): Promise<Anchor[]> {
  const rows = await queryRows<AnchorRow>(
    db,
    sql`select ${COLUMNS} from audit_anchors where project_key = ${projectKey} order by seq desc, key_id limit ${limit}`,
  );
  return rows.map(toAnchor);
}

export type TakeResult =
  | { taken: true; anchor: Anchor }
  | { taken: false; reason: "empty" | "unchanged"; detail: string };

/** Anchoring refused: the chain no longer agrees with what was anchored before. Needs a person. */
export class AnchorRefusedError extends Error {}

/**
 * Signs the project's chain head, unless it has not moved since this key's
 * last anchor. It first walks the chain from that anchor to the head (from
 * genesis for the first one; afterwards the cost is the new events), so an
 * anchor never vouches for a chain that does not follow on from the last one:
 * a truncated or rewritten trail stops anchoring and is named instead.
 */
export async function takeAnchor(db: Queryable, projectKey: string, signer: AnchorSigner, publicKey: KeyObject, now: Date): Promise<TakeResult> {
  const head = await readHead(db, projectKey);
  if (!head || head.lastSeq === 0) return { taken: false, reason: "empty", detail: `project ${projectKey} has no audit events yet` };
  const [last] = await queryRows<AnchorRow>(
    db,
    sql`select ${COLUMNS} from audit_anchors where project_key = ${projectKey} and key_id = ${signer.keyId} order by seq desc limit 1`,
  );
  const previous = last ? toAnchor(last) : undefined;
  if (previous) {
    if (checkSignature(previous, new Map([[signer.keyId, publicKey]])) !== "valid") {
      throw new AnchorRefusedError(`the anchor of ${projectKey} at event ${previous.seq} does not carry this key's signature: not anchoring; run ucledger audit verify`);
    }
    if (previous.seq === head.lastSeq && previous.hash === head.lastHash) {
      return { taken: false, reason: "unchanged", detail: `the chain head of ${projectKey} is still at event ${head.lastSeq}` };
    }
  }
  const report = await verifyChain(db, projectKey, previous ? { from: { seq: previous.seq, hash: previous.hash } } : {});
  if (!report.ok) {
    throw new AnchorRefusedError(`the audit chain of ${projectKey} is broken at event ${report.broken!.seq} (${report.broken!.reason}): not anchoring; run ucledger audit verify`);
  }
  // The walk's head: read its hash again, since the walk went to the head it read itself.
  const [event] = await queryRows<{ hash: string }>(db, sql`select hash from file_events where project_key = ${projectKey} and seq = ${report.events}`);
  if (!event) throw new AnchorRefusedError(`event ${report.events} of ${projectKey} vanished during the walk: not anchoring`);
  const unsigned = { projectKey, seq: report.events, hash: event.hash, takenAt: dateToTimestamp(now), keyId: signer.keyId };
  const anchor: Anchor = { ...unsigned, signature: signer.sign(anchorText(unsigned)) };
  await db.execute(sql`
    insert into audit_anchors (project_key, seq, hash, taken_at, key_id, signature)
    values (${anchor.projectKey}, ${anchor.seq}, ${anchor.hash}, ${anchor.takenAt}::timestamptz, ${anchor.keyId}, ${anchor.signature})
    on conflict do nothing`);
  return { taken: true, anchor };
}
