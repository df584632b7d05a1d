import { bigint, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/**
 * Signed copies of each project's chain head (src/db/audit/anchors.ts): the
 * head's `(seq, hash)` at `taken_at`, signed with an Ed25519 key held outside
 * the database (UCLEDGER_AUDIT_KEY). Append-only like file_events (migration
 * 0019's triggers refuse UPDATE, DELETE and TRUNCATE). Copies also leave the
 * database (the API's export, the weekly report email), so wiping this table
 * does not wipe the evidence.
 */
export const auditAnchors = pgTable(
  "audit_anchors",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    /** The chain head's position when the anchor was taken. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** The hash of event `seq`. */
    hash: text("hash").notNull(),
    takenAt: microTimestamp("taken_at").notNull(),
    /** Names the signing key: the first 16 hex digits of the SHA-256 of its public key (SPKI DER). */
    keyId: text("key_id").notNull(),
    /** Base64 Ed25519 signature over the anchor's canonical text. */
    signature: text("signature").notNull(),
  },
  // One anchor per head and key: a head that has not moved is not signed again.
  (t) => [primaryKey({ name: "audit_anchors_pkey", columns: [t.projectKey, t.seq, t.keyId] })],
);

/**
 * Where incremental `audit verify` starts: the newest anchor a walk has reached.
 * Only a shortcut: it is used only when it names a genuinely signed anchor whose
 * hash still matches the stored event, so tampering with it costs a full walk,
 * never a missed break.
 */
export const auditVerifyMarks = pgTable("audit_verify_marks", {
  projectKey: text("project_key")
    .primaryKey()
    .references(() => projects.projectKey),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  verifiedAt: microTimestamp("verified_at").notNull(),
});

export type AuditAnchorRow = typeof auditAnchors.$inferSelect;
