import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../schema/reports.ts";
import { canonicalTimestampOrNull } from "../timestamps.ts";

/**
 * The delivery state machine of report emails, one row per (report, recipient):
 *
 *   queued ──claim──▶ sending ──▶ sent
 *     ▲                  │
 *     └── failed ◀───────┤ (retried at next_attempt_at)
 *                        └──▶ gave_up (last attempt failed, or the sender stopped mid-send)
 *
 * Only a conditional UPDATE moves a row to `sending`, so one sender wins each
 * attempt; a row that is `sent` is never claimed again. A send interrupted
 * after the claim (crash, kill) is not retried automatically: the message may
 * have gone out, and sending it twice is the one thing this table prevents.
 */

export interface DeliveryKey {
  projectKey: string;
  reportId: string;
  recipient: string;
}

export interface Claim extends DeliveryKey {
  attempt: number;
  claimToken: string;
  claimedAt: string;
}

export interface DeliveryEntry extends DeliveryKey {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  smtpResponse: string | null;
  lastError: string | null;
  messageId: string | null;
  sentAt: string | null;
  updatedAt: string;
}

const iso = (d: Date) => d.toISOString();

export function normalizeRecipient(address: string): string {
  return address.trim().toLowerCase();
}

/** Queues the recipients that have no row yet for this report; existing rows keep their state. */
export async function enqueueDeliveries(tx: Queryable, input: { projectKey: string; reportId: string; recipients: string[]; now: Date }): Promise<number> {
  const recipients = [...new Set(input.recipients.map(normalizeRecipient))];
  if (recipients.length === 0) return 0;
  const rows = await queryRows(
    tx,
    sql`insert into report_deliveries (project_key, report_id, recipient, status, attempts, next_attempt_at, created_at, updated_at)
        select ${input.projectKey}, ${input.reportId}::uuid, r, 'queued', 0, ${iso(input.now)}::timestamptz, ${iso(input.now)}::timestamptz, ${iso(input.now)}::timestamptz
        from unnest(${sql.param(recipients)}::text[]) as r
        on conflict do nothing returning 1`,
  );
  return rows.length;
}

/** For a resend by hand: failed and given-up rows of these recipients are due now. Sent rows stay sent. */
export async function requeueUnsent(tx: Queryable, input: { projectKey: string; reportId: string; recipients: string[]; now: Date }): Promise<number> {
  const recipients = input.recipients.map(normalizeRecipient);
  const rows = await queryRows(
    tx,
    sql`update report_deliveries set status = 'queued', next_attempt_at = ${iso(input.now)}::timestamptz, updated_at = ${iso(input.now)}::timestamptz
        where project_key = ${input.projectKey} and report_id = ${input.reportId}::uuid
          and recipient = any(${sql.param(recipients)}::text[]) and status in ('failed', 'gave_up')
        returning 1`,
  );
  return rows.length;
}

/** Deliveries due at `now`, oldest first: all of a project's, or one report's. */
export async function dueDeliveries(
  db: Queryable,
  input: { projectKey: string; reportId?: string; now: Date; limit: number },
): Promise<DeliveryKey[]> {
  const rows = await queryRows<{ report_id: string; recipient: string }>(
    db,
    sql`select report_id::text as report_id, recipient from report_deliveries
        where project_key = ${input.projectKey} and status in ('queued', 'failed') and next_attempt_at <= ${iso(input.now)}::timestamptz
          ${input.reportId === undefined ? sql`` : sql`and report_id = ${input.reportId}::uuid`}
        order by next_attempt_at, report_id, recipient limit ${input.limit}`,
  );
  return rows.map((r) => ({ projectKey: input.projectKey, reportId: r.report_id, recipient: r.recipient }));
}

/** Moves a due row to `sending`; null when another sender has it, or it is sent, or not due. */
export async function claimDelivery(tx: Queryable, key: DeliveryKey, now: Date): Promise<Claim | null> {
  const claimToken = randomUUID();
  const [row] = await queryRows<{ attempts: number }>(
    tx,
    sql`update report_deliveries set status = 'sending', attempts = attempts + 1, claimed_at = ${iso(now)}::timestamptz,
          claim_token = ${claimToken}::uuid, next_attempt_at = null, updated_at = ${iso(now)}::timestamptz
        where project_key = ${key.projectKey} and report_id = ${key.reportId}::uuid and recipient = ${key.recipient}
          and status in ('queued', 'failed') and next_attempt_at <= ${iso(now)}::timestamptz
        returning attempts`,
  );
  return row ? { ...key, attempt: Number(row.attempts), claimToken, claimedAt: iso(now) } : null;
}

export type AttemptOutcome =
  | { ok: true; smtpResponse: string | null; messageId: string | null }
  | { ok: false; smtpResponse: string | null; error: string; nextAttemptAt: Date | null };

/** Records how a claimed attempt ended; false when the claim was no longer this sender's. */
export async function finishAttempt(tx: Queryable, claim: Claim, outcome: AttemptOutcome, now: Date): Promise<boolean> {
  const status: DeliveryStatus = outcome.ok ? "sent" : outcome.nextAttemptAt ? "failed" : "gave_up";
  const rows = await queryRows(
    tx,
    sql`update report_deliveries set status = ${status}, smtp_response = ${outcome.smtpResponse},
          last_error = ${outcome.ok ? null : outcome.error}, message_id = coalesce(${outcome.ok ? outcome.messageId : null}, message_id),
          next_attempt_at = ${!outcome.ok && outcome.nextAttemptAt ? iso(outcome.nextAttemptAt) : null}::timestamptz,
          sent_at = ${outcome.ok ? iso(now) : null}::timestamptz, updated_at = ${iso(now)}::timestamptz, claim_token = null
        where project_key = ${claim.projectKey} and report_id = ${claim.reportId}::uuid and recipient = ${claim.recipient}
          and status = 'sending' and claim_token = ${claim.claimToken}::uuid
        returning 1`,
  );
  if (rows.length === 0) return false;
  await tx.execute(
    sql`insert into report_delivery_attempts (project_key, report_id, recipient, attempt, started_at, finished_at, outcome, smtp_response, error)
        values (${claim.projectKey}, ${claim.reportId}::uuid, ${claim.recipient}, ${claim.attempt}, ${claim.claimedAt}::timestamptz,
                ${iso(now)}::timestamptz, ${outcome.ok ? "sent" : "failed"}, ${outcome.smtpResponse}, ${outcome.ok ? null : outcome.error})
        on conflict do nothing`,
  );
  return true;
}

/**
 * Rows left in `sending` longer than `staleMs` belong to a sender that
 * stopped. They become `gave_up` (not retried: the message may have gone out);
 * a resend by hand can still send them.
 */
export async function abandonInterrupted(tx: Queryable, input: { projectKey: string; now: Date; staleMs: number }): Promise<number> {
  const reason = "interrupted while sending: the message may or may not have gone out, so it is not retried automatically";
  const rows = await queryRows<{ report_id: string; recipient: string; attempts: number; claimed_at: string }>(
    tx,
    sql`update report_deliveries set status = 'gave_up', last_error = ${reason}, claim_token = null, updated_at = ${iso(input.now)}::timestamptz
        where project_key = ${input.projectKey} and status = 'sending'
          and claimed_at < ${iso(new Date(input.now.getTime() - input.staleMs))}::timestamptz
        returning report_id::text as report_id, recipient, attempts, claimed_at::text as claimed_at`,
  );
  for (const r of rows) {
    await tx.execute(
      sql`insert into report_delivery_attempts (project_key, report_id, recipient, attempt, started_at, finished_at, outcome, error)
          values (${input.projectKey}, ${r.report_id}::uuid, ${r.recipient}, ${r.attempts}, ${r.claimed_at}::timestamptz, ${iso(input.now)}::timestamptz,
                  'interrupted', ${reason})
          on conflict do nothing`,
    );
  }
  return rows.length;
}

export async function listDeliveries(db: Queryable, projectKey: string, reportId: string): Promise<DeliveryEntry[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select report_id::text as report_id, recipient, status, attempts, next_attempt_at::text as next_attempt_at, smtp_response,
          last_error, message_id, sent_at::text as sent_at, updated_at::text as updated_at
        from report_deliveries where project_key = ${projectKey} and report_id = ${reportId}::uuid order by recipient`,
  );
  return rows.map((r) => ({
    projectKey,
    reportId: String(r["report_id"]),
    recipient: String(r["recipient"]),
    status: r["status"] as DeliveryStatus,
    attempts: Number(r["attempts"]),
    nextAttemptAt: canonicalTimestampOrNull(r["next_attempt_at"] as string | null),
    smtpResponse: (r["smtp_response"] as string | null) ?? null,
    lastError: (r["last_error"] as string | null) ?? null,
    messageId: (r["message_id"] as string | null) ?? null,
    sentAt: canonicalTimestampOrNull(r["sent_at"] as string | null),
    updatedAt: canonicalTimestampOrNull(r["updated_at"] as string)!,
  }));
}

/** Deliveries by project and status, every status listed (zeros included) for each project that has any. */
export async function countDeliveriesByStatus(db: Queryable): Promise<{ projectKey: string; status: DeliveryStatus; count: number }[]> {
  const rows = await queryRows<{ project_key: string; status: DeliveryStatus; n: number | string }>(
    db,
    sql`select p.project_key, s.status, count(d.recipient) as n
        from (select distinct project_key from report_deliveries) p
        cross join unnest(${sql.param([...DELIVERY_STATUSES])}::text[]) as s(status)
        left join report_deliveries d on d.project_key = p.project_key and d.status = s.status
        group by p.project_key, s.status
        order by p.project_key, s.status`,
  );
  return rows.map((r) => ({ projectKey: r.project_key, status: r.status, count: Number(r.n) }));
}
