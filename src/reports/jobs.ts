import type { Db, Queryable } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { retryDueDeliveries, sendReport } from "./deliver.ts";
import { createSmtpMailer, type Mailer } from "./mail.ts";
import { buildWeeklyReport } from "./weekly/build.ts";
import { previousCompleteWeek } from "./weekly/period.ts";

/** What the report jobs need from the configuration, handed down by the entry point. */
export interface ReportSettings {
  timezone: string;
  publicUrl: string;
  /** Unset when SMTP is not configured: reports are stored, not mailed. */
  mail: { mailer: Mailer; from: string; recipients: string[] } | undefined;
}

export interface ReportJobContext {
  projectKey: string;
  /** The scheduled time of this fire; the report covers the last week finished by then. */
  slot: string;
  fence: (tx: Queryable) => Promise<void>;
  logger: Logger;
}

/**
 * `report.weekly`: stores last week's report for the project and mails it when
 * SMTP is configured. A rerun or a caught-up fire finds the report stored and
 * each recipient's delivery row in place, so nobody gets it twice.
 */
export async function runWeeklyReportJob(deps: { db: Db; now: () => Date }, settings: ReportSettings, ctx: ReportJobContext): Promise<void> {
  const week = previousCompleteWeek(new Date(ctx.slot), settings.timezone);
  const built = await buildWeeklyReport(
    { db: deps.db, now: deps.now, fence: ctx.fence },
    { projectKey: ctx.projectKey, week, timezone: settings.timezone, publicUrl: settings.publicUrl },
  );
  let deliveries: { status: string }[] = [];
  if (settings.mail) {
    deliveries = await sendReport(
      { db: deps.db, mailer: settings.mail.mailer, from: settings.mail.from, logger: ctx.logger, now: deps.now, fence: ctx.fence },
      { reportId: built.id, recipients: settings.mail.recipients },
    );
  }
  ctx.logger.info(
    {
      report: built.id,
      week,
      stored: built.inserted ? "new" : "existing",
      mailed: settings.mail ? deliveries.filter((d) => d.status === "sent").length : "smtp not configured",
      failed: deliveries.filter((d) => d.status === "failed" || d.status === "gave_up").length,
    },
    "weekly report",
  );
}

/** `report.deliveries`: the retry pass for failed sends. Does nothing without SMTP. */
export async function runDeliveryRetryJob(deps: { db: Db; now: () => Date }, settings: ReportSettings, ctx: ReportJobContext): Promise<void> {
  if (!settings.mail) return;
  const result = await retryDueDeliveries(
    { db: deps.db, mailer: settings.mail.mailer, from: settings.mail.from, logger: ctx.logger, now: deps.now, fence: ctx.fence },
    { projectKey: ctx.projectKey },
  );
  if (result.attempted > 0) ctx.logger.info(result, "report delivery retries");
}

/** The report settings from the configuration: a mailer only when SMTP_URL is set. */
export function reportSettingsFrom(config: {
  timezone: string;
  publicUrl: string;
  mail: { smtpUrl: string | undefined; from: string | undefined; recipients: string[] };
}): ReportSettings {
  const { smtpUrl, from, recipients } = config.mail;
  return {
    timezone: config.timezone,
    publicUrl: config.publicUrl,
    mail: smtpUrl && from && recipients.length > 0 ? { mailer: createSmtpMailer(smtpUrl), from, recipients } : undefined,
  };
}
