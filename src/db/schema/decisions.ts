import { sql } from "drizzle-orm";
import { bigint, boolean, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, unique, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

export const POLICY_ACTIONS = ["store", "delete", "archive", "tag", "version"] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/**
 * proposed → approved (enough approvals) → applying → applied | halted.
 * proposed → expired (not approved in time); proposed | approved | halted → cancelled.
 * applied, expired, halted and cancelled take no more approvals.
 */
export const PLAN_STATUSES = ["proposed", "approved", "applying", "applied", "halted", "expired", "cancelled"] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

/**
 * excluded (protected at proposal) | pending → [archive, version: copying → copied →] sending → done | skipped | failed.
 * tag: pending → sending → done. version without deleting the original: copying → copied → done.
 * `copying` and `sending` are written before their request goes out, so a rerun
 * knows which requests may have reached Uploadcare and re-reads those files.
 */
export const PLAN_ITEM_STATUSES = ["excluded", "pending", "copying", "copied", "sending", "done", "skipped", "failed"] as const;
export type PlanItemStatus = (typeof PLAN_ITEM_STATUSES)[number];

/** A file's state as the decisions see it. */
export const FILE_STATES = ["stored", "unstored", "removed"] as const;
export type FileState = (typeof FILE_STATES)[number];

/** Named rules over the ledger's fields, each proposing one action. Soft-deleted: plans keep pointing at them. */
export const policies = pgTable(
  "policies",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    id: uuid("id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    action: text("action").$type<PolicyAction>().notNull(),
    /** Conditions, all of which must hold (src/decisions/conditions.ts). */
    conditions: jsonb("conditions").$type<Record<string, unknown>[]>().notNull(),
    /** Required to save a policy whose conditions restrict nothing. */
    allowMatchAll: boolean("allow_match_all").notNull().default(false),
    /** Archive only: `{ target, pattern, makePublic }` of the remote copy. */
    archive: jsonb("archive").$type<Record<string, unknown>>(),
    /** Tag only: `{ set: {key: value}, remove: [key] }` (src/decisions/tag-spec.ts). */
    tag: jsonb("tag").$type<Record<string, unknown>>(),
    /** Version only: `{ operations, deleteOriginal }` of the local copy (src/decisions/version-spec.ts). */
    versionSpec: jsonb("version_spec").$type<Record<string, unknown>>(),
    /** Bumped by every edit; a plan records the version it froze. */
    version: integer("version").notNull(),
    createdAt: microTimestamp("created_at").notNull(),
    createdBy: text("created_by").notNull(),
    updatedAt: microTimestamp("updated_at").notNull(),
    updatedBy: text("updated_by").notNull(),
    deletedAt: microTimestamp("deleted_at"),
  },
  (t) => [
    primaryKey({ name: "policies_pkey", columns: [t.projectKey, t.id] }),
    // Partial: a name is unique among live policies, so a deleted one's name can be reused.
    uniqueIndex("policies_live_name_idx")
      .on(t.projectKey, t.name)
      .where(sql`${t.deletedAt} IS NULL`),
    // `GET /v1/policies/{id}` names no project.
    index("policies_id_idx").on(t.id),
  ],
);

/** A frozen proposal: the policy as it was, the matching files, and who approved it. */
export const plans = pgTable(
  "plans",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    id: uuid("id").notNull(),
    policyId: uuid("policy_id").notNull(),
    policyVersion: integer("policy_version").notNull(),
    /** The policy as it was at proposal (name, action, conditions, archive). */
    policy: jsonb("policy").$type<Record<string, unknown>>().notNull(),
    action: text("action").$type<PolicyAction>().notNull(),
    /** The effective options: protection, approvals, expiry, halting. */
    options: jsonb("options").$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<PlanStatus>().notNull(),
    note: text("note"),
    /** Files the plan acts on (excluded ones not counted) and their bytes at proposal. */
    fileCount: integer("file_count").notNull(),
    totalBytes: bigint("total_bytes", { mode: "number" }).notNull(),
    excludedCount: integer("excluded_count").notNull(),
    requiredApprovals: integer("required_approvals").notNull(),
    proposedBy: text("proposed_by").notNull(),
    proposedAt: microTimestamp("proposed_at").notNull(),
    expiresAt: microTimestamp("expires_at").notNull(),
    approvedAt: microTimestamp("approved_at"),
    /** The actor of the latest apply and when it started. */
    appliedBy: text("applied_by"),
    applyStartedAt: microTimestamp("apply_started_at"),
    finishedAt: microTimestamp("finished_at"),
    haltReason: text("halt_reason"),
    /** Why the latest apply run stopped early (the plan stays `applying` and can be resumed). */
    lastError: text("last_error"),
    cancelledBy: text("cancelled_by"),
    updatedAt: microTimestamp("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "plans_pkey", columns: [t.projectKey, t.id] }),
    foreignKey({ name: "plans_policy_fk", columns: [t.projectKey, t.policyId], foreignColumns: [policies.projectKey, policies.id] }),
    // `GET /v1/plans/{id}` and `ucledger plan show ID` name no project.
    index("plans_id_idx").on(t.id),
    // The API lists plans newest first.
    index("plans_proposed_idx").on(t.projectKey, t.proposedAt, t.id),
    // Partial: only unapproved plans can expire, and the expiry sweep reads just those.
    index("plans_expiring_idx")
      .on(t.projectKey, t.expiresAt)
      .where(sql`${t.status} = 'proposed'`),
  ],
);

/** One row per approver: the key makes a second approval by the same person impossible. */
export const planApprovals = pgTable(
  "plan_approvals",
  {
    projectKey: projectKey(),
    planId: uuid("plan_id").notNull(),
    /** Token name through the API, `cli:<user>` from the command line. */
    approver: text("approver").notNull(),
    reason: text("reason").notNull(),
    approvedAt: microTimestamp("approved_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "plan_approvals_pkey", columns: [t.projectKey, t.planId, t.approver] }),
    foreignKey({ name: "plan_approvals_plan_fk", columns: [t.projectKey, t.planId], foreignColumns: [plans.projectKey, plans.id] }),
  ],
);

/** Every file a plan matched: the evidence at proposal, then what happened to it. */
export const planItems = pgTable(
  "plan_items",
  {
    projectKey: projectKey(),
    planId: uuid("plan_id").notNull(),
    /** Order of execution (upload order at proposal), 1-based. */
    seq: integer("seq").notNull(),
    fileUuid: uuid("file_uuid").notNull(),
    status: text("status").$type<PlanItemStatus>().notNull(),
    /** Why excluded, skipped or failed (Uploadcare's `problems` text for failures). */
    reason: text("reason"),
    /** At proposal. */
    size: bigint("size", { mode: "number" }).notNull(),
    state: text("state").$type<FileState>().notNull(),
    datetimeUploaded: microTimestamp("datetime_uploaded").notNull(),
    mimeType: text("mime_type").notNull(),
    originalFilename: text("original_filename").notNull(),
    /** The values the policy's conditions looked at, as they were at proposal. */
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
    /** Archive: where the remote copy went (`s3://bucket/path`). */
    copyUrl: text("copy_url"),
    /** Version: the local copy Uploadcare made, and its bytes once confirmed (file_versions links them too). */
    copyUuid: uuid("copy_uuid"),
    copySize: bigint("copy_size", { mode: "number" }),
    /** Which batch of the plan sent it. */
    batch: integer("batch"),
    sentAt: microTimestamp("sent_at"),
    finishedAt: microTimestamp("finished_at"),
    updatedAt: microTimestamp("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "plan_items_pkey", columns: [t.projectKey, t.planId, t.seq] }),
    unique("plan_items_file_key").on(t.projectKey, t.planId, t.fileUuid),
    foreignKey({ name: "plan_items_plan_fk", columns: [t.projectKey, t.planId], foreignColumns: [plans.projectKey, plans.id] }),
    // Progress counts and the item listing filtered by status.
    index("plan_items_status_idx").on(t.projectKey, t.planId, t.status, t.seq),
    // Partial: the apply loop's work queue. Finished items are most of a plan
    // under way, and reading the next batch must not walk past all of them.
    index("plan_items_open_idx")
      .on(t.projectKey, t.planId, t.seq)
      .where(sql`${t.status} in ('pending', 'copying', 'copied', 'sending')`),
  ],
);

export type PolicyRow = typeof policies.$inferSelect;
export type PlanRow = typeof plans.$inferSelect;
export type PlanItemRow = typeof planItems.$inferSelect;
export type PlanApprovalRow = typeof planApprovals.$inferSelect;

// Versions made by version plans live in their own file; exported here so the schema index sees them.
export * from "./file-versions.ts";
