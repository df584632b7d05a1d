import { sql } from "drizzle-orm";
import { customType, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, unique, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/** PNG bytes: pg hands back a Buffer, PGlite a Uint8Array; both are Uint8Array. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

export const REPORT_KINDS = ["weekly"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/**
 * A report is a stored artifact, written once per (project, kind, period) and
 * never updated: the API, every email and every resend show these bytes.
 * `id` is derived from the primary key, so every instance computes the same one.
 */
export const reports = pgTable(
  "reports",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    kind: text("kind").$type<ReportKind>().notNull(),
    periodStart: microTimestamp("period_start").notNull(),
    periodEnd: microTimestamp("period_end").notNull(),
    id: uuid("id").notNull(),
    /** `2026-W13` for a weekly report. */
    label: text("label").notNull(),
    /** IANA time zone the period's boundaries were computed in. */
    timezone: text("timezone").notNull(),
    content: jsonb("content").$type<Record<string, unknown>>().notNull(),
    /** The email's HTML; charts are `cid:` references, rewritten to URLs or files when served elsewhere. */
    html: text("html").notNull(),
    text: text("text").notNull(),
    csv: text("csv").notNull(),
    createdAt: microTimestamp("created_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "reports_pkey", columns: [t.projectKey, t.kind, t.periodStart] }),
    unique("reports_project_id_key").on(t.projectKey, t.id),
    // `GET /v1/reports/{id}` names no project.
    index("reports_id_idx").on(t.id),
  ],
);

/** The charts of a report as rendered when it was stored (PNG at 2x). */
export const reportCharts = pgTable(
  "report_charts",
  {
    projectKey: projectKey(),
    reportId: uuid("report_id").notNull(),
    name: text("name").notNull(),
    title: text("title").notNull(),
    /** Display size in CSS pixels; the PNG has twice as many. */
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    png: bytea("png").notNull(),
  },
  (t) => [
    primaryKey({ name: "report_charts_pkey", columns: [t.projectKey, t.reportId, t.name] }),
    foreignKey({ name: "report_charts_report_fk", columns: [t.projectKey, t.reportId], foreignColumns: [reports.projectKey, reports.id] }),
  ],
);

/**
 * queued → sending → sent; a failed attempt goes to `failed` (retried at
 * `next_attempt_at`) or, after the last attempt, `gave_up`. A row is claimed
 * (`sending`) before its message goes out, so a (report, recipient) pair is
 * never mailed twice.
 */
export const DELIVERY_STATUSES = ["queued", "sending", "sent", "failed", "gave_up"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const reportDeliveries = pgTable(
  "report_deliveries",
  {
    projectKey: projectKey(),
    reportId: uuid("report_id").notNull(),
    /** Lower-cased address. */
    recipient: text("recipient").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** When the next attempt is due; null once sent or given up. */
    nextAttemptAt: microTimestamp("next_attempt_at"),
    /** Set when claimed; a claim older than the send timeout is an interrupted send. */
    claimedAt: microTimestamp("claimed_at"),
    claimToken: uuid("claim_token"),
    /** The SMTP server's last answer (`250 2.0.0 Ok: queued`, `550 5.1.1 …`). */
    smtpResponse: text("smtp_response"),
    lastError: text("last_error"),
    messageId: text("message_id"),
    createdAt: microTimestamp("created_at").notNull(),
    updatedAt: microTimestamp("updated_at").notNull(),
    sentAt: microTimestamp("sent_at"),
  },
  (t) => [
    primaryKey({ name: "report_deliveries_pkey", columns: [t.projectKey, t.reportId, t.recipient] }),
    foreignKey({ name: "report_deliveries_report_fk", columns: [t.projectKey, t.reportId], foreignColumns: [reports.projectKey, reports.id] }),
    // Partial: the retry pass reads only rows still waiting, a small share once mail flows.
    index("report_deliveries_due_idx")
      .on(t.projectKey, t.nextAttemptAt)
      .where(sql`${t.status} in ('queued', 'failed')`),
  ],
);

/** Every attempt of every delivery, with what the SMTP server answered. Append-only by convention. */
export const reportDeliveryAttempts = pgTable(
  "report_delivery_attempts",
  {
    projectKey: projectKey(),
    reportId: uuid("report_id").notNull(),
    recipient: text("recipient").notNull(),
    attempt: integer("attempt").notNull(),
    startedAt: microTimestamp("started_at").notNull(),
    finishedAt: microTimestamp("finished_at"),
    /** `sent`, `failed`, or `interrupted` (the sender stopped mid-send). */
    outcome: text("outcome").notNull(),
    smtpResponse: text("smtp_response"),
    error: text("error"),
  },
  (t) => [
    primaryKey({ name: "report_delivery_attempts_pkey", columns: [t.projectKey, t.reportId, t.recipient, t.attempt] }),
    // The weekly report counts the previous week's failed attempts.
    index("report_delivery_attempts_time_idx").on(t.projectKey, t.startedAt),
  ],
);

export type ReportRow = typeof reports.$inferSelect;
export type ReportDelivery = typeof reportDeliveries.$inferSelect;
