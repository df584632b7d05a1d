import type { Db, Queryable } from "../db/client.ts";
import { getCharts, getReport, type StoredChart, type StoredReport } from "../db/queries/reports.ts";
import {
  abandonInterrupted,
  claimDelivery,
  dueDeliveries,
  enqueueDeliveries,
  finishAttempt,
  listDeliveries,
  requeueUnsent,
  type AttemptOutcome,
  type DeliveryEntry,
  type DeliveryKey,
} from "../db/queries/reports-deliveries.ts";
import { NotFoundError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { composeReportMessage, describeMailError, type Mailer } from "./mail.ts";
import type { WeeklyReport } from "./weekly/compute.ts";
import { reportSubject } from "./weekly/render.ts";

/** Attempts per delivery before it is given up; about 9 hours with the backoff below. */
export const MAX_ATTEMPTS = 6;
const BACKOFF_BASE_MS = 5 * 60_000;
const BACKOFF_CAP_MS = 6 * 60 * 60_000;
/** A claim older than this belongs to a sender that stopped (far above the SMTP timeouts). */
export const SEND_STALE_MS = 15 * 60_000;
/** Deliveries one retry pass works through; the next pass takes the rest. */
const RETRY_BATCH = 100;

export interface DeliveryDeps {
  db: Db;
  mailer: Mailer;
  from: string;
  logger: Logger;
  now: () => Date;
  fence?: (tx: Queryable) => Promise<void>;
}

/** When attempt `attempt` (1-based) failed at `now`, the next one is due then; null after the last. */
export function nextAttemptAfter(attempt: number, now: Date): Date | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  const delay = Math.min(BACKOFF_BASE_MS * 3 ** (attempt - 1), BACKOFF_CAP_MS);
  return new Date(now.getTime() + delay);
}

async function loadArtifact(db: Db, reportId: string): Promise<{ report: StoredReport; charts: StoredChart[] }> {
  const report = await getReport(db, reportId);
  if (!report) throw new NotFoundError("report", reportId);
  return { report, charts: await getCharts(db, report.projectKey, report.id) };
}

/**
 * Mails a stored report to each recipient that has not had it: queues the
 * missing rows, then sends what is due. Rows already sent are left alone.
 */
export async function sendReport(deps: DeliveryDeps, input: { reportId: string; recipients: string[] }): Promise<DeliveryEntry[]> {
  const artifact = await loadArtifact(deps.db, input.reportId);
  await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    await enqueueDeliveries(tx, { projectKey: artifact.report.projectKey, reportId: artifact.report.id, recipients: input.recipients, now: deps.now() });
  });
  await sendDue(deps, artifact);
  return listDeliveries(deps.db, artifact.report.projectKey, artifact.report.id);
}

/** A resend by hand: recipients not sent yet (failed, given up, or new) are due now; sent ones are skipped. */
export async function resendReport(deps: DeliveryDeps, input: { reportId: string; recipients: string[] }): Promise<DeliveryEntry[]> {
  const artifact = await loadArtifact(deps.db, input.reportId);
  await deps.db.transaction(async (tx) => {
    const key = { projectKey: artifact.report.projectKey, reportId: artifact.report.id, recipients: input.recipients, now: deps.now() };
    await enqueueDeliveries(tx, key);
    await requeueUnsent(tx, key);
  });
  await sendDue(deps, artifact);
  return listDeliveries(deps.db, artifact.report.projectKey, artifact.report.id);
}

/** The scheduled retry pass for one project: abandons interrupted sends, then sends what is due. */
export async function retryDueDeliveries(deps: DeliveryDeps, input: { projectKey: string }): Promise<{ attempted: number; sent: number }> {
  const abandoned = await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    return abandonInterrupted(tx, { projectKey: input.projectKey, now: deps.now(), staleMs: SEND_STALE_MS });
  });
  if (abandoned > 0) deps.logger.warn({ project: input.projectKey, deliveries: abandoned }, "report deliveries interrupted mid-send were given up");
  const due = await dueDeliveries(deps.db, { projectKey: input.projectKey, now: deps.now(), limit: RETRY_BATCH });
  const artifacts = new Map<string, { report: StoredReport; charts: StoredChart[] }>();
  let sent = 0;
  for (const key of due) {
    let artifact = artifacts.get(key.reportId);
    if (!artifact) {
      artifact = await loadArtifact(deps.db, key.reportId);
      artifacts.set(key.reportId, artifact);
    }
    if ((await deliverOne(deps, artifact, key)) === "sent") sent += 1;
  }
  return { attempted: due.length, sent };
}

async function sendDue(deps: DeliveryDeps, artifact: { report: StoredReport; charts: StoredChart[] }): Promise<void> {
  const due = await dueDeliveries(deps.db, { projectKey: artifact.report.projectKey, reportId: artifact.report.id, now: deps.now(), limit: RETRY_BATCH });
  for (const key of due) await deliverOne(deps, artifact, key);
}

/**
 * One attempt for one recipient: claim the row (the only way to `sending`),
 * send, record. A row someone else claimed, or that is no longer due, is skipped.
 */
async function deliverOne(
  deps: DeliveryDeps,
  artifact: { report: StoredReport; charts: StoredChart[] },
  key: DeliveryKey,
): Promise<"sent" | "failed" | "skipped"> {
  const claim = await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    return claimDelivery(tx, key, deps.now());
  });
  if (!claim) return "skipped";

  const message = composeReportMessage({
    report: artifact.report,
    charts: artifact.charts,
    subject: reportSubject(artifact.report.content as unknown as WeeklyReport),
    from: deps.from,
    to: key.recipient,
  });
  let outcome: AttemptOutcome;
  try {
    const sent = await deps.mailer.send(message);
    outcome = { ok: true, smtpResponse: sent.response, messageId: sent.messageId };
  } catch (err) {
    const failure = describeMailError(err);
    outcome = { ok: false, ...failure, nextAttemptAt: nextAttemptAfter(claim.attempt, deps.now()) };
  }
  // Not fenced: the message went out (or not) whatever happened to the lease, and the record must say so.
  const recorded = await deps.db.transaction((tx) => finishAttempt(tx, claim, outcome, deps.now()));
  const log = { project: key.projectKey, report: key.reportId, recipient: key.recipient, attempt: claim.attempt, smtpResponse: outcome.smtpResponse };
  if (!recorded) deps.logger.error(log, "report delivery outcome could not be recorded: the claim was lost");
  if (outcome.ok) {
    deps.logger.info(log, "report sent");
    return "sent";
  }
  deps.logger.warn({ ...log, err: outcome.error, nextAttemptAt: outcome.nextAttemptAt?.toISOString() ?? null }, "report delivery failed");
  return "failed";
}
