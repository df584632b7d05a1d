import { createHash } from "node:crypto";
import { createTransport } from "nodemailer";
import type { StoredChart, StoredReport } from "../db/queries/reports.ts";
import { chartCid } from "./weekly/render.ts";

/**
 * The report email: the stored HTML (charts as inline CID images), the stored
 * plain text, and the stored CSV attached. Everything comes from the stored
 * artifact, so a resend shows exactly what the first send showed.
 */

export interface MailAttachment {
  filename: string;
  content: Buffer | string;
  contentType: string;
  cid?: string;
  contentDisposition?: "inline" | "attachment";
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  attachments: MailAttachment[];
  /** Stable per (report, recipient): a duplicate would be recognizable as one. */
  messageId: string;
  headers: Record<string, string>;
}

export interface SentMail {
  /** The server's final answer, e.g. `250 2.0.0 Ok: queued as 4Fx`. */
  response: string;
  messageId: string;
}

/** What sends mail; an SMTP transport in production, anything with the same shape in tests. */
export interface Mailer {
  send(message: MailMessage): Promise<SentMail>;
  close(): void;
}

/** SMTP failures carry the server's answer; everything else its message. */
export interface MailFailure {
  smtpResponse: string | null;
  error: string;
}

/** Upper bounds on one SMTP conversation, well under the delivery's stale-claim timeout. */
const CONNECTION_TIMEOUT_MS = 30_000;
const SOCKET_TIMEOUT_MS = 60_000;

export function createSmtpMailer(smtpUrl: string, options: { timeoutMs?: number } = {}): Mailer {
  const transport = createTransport({
    url: smtpUrl,
    connectionTimeout: options.timeoutMs ?? CONNECTION_TIMEOUT_MS,
    greetingTimeout: options.timeoutMs ?? CONNECTION_TIMEOUT_MS,
    socketTimeout: options.timeoutMs ?? SOCKET_TIMEOUT_MS,
  } as Parameters<typeof createTransport>[0]);
  return {
    async send(message) {
      const info = (await transport.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        attachments: message.attachments,
        messageId: message.messageId,
        headers: message.headers,
      })) as { response?: string; messageId?: string; rejected?: unknown[] };
      if (Array.isArray(info.rejected) && info.rejected.length > 0) {
        throw Object.assign(new Error(`recipient rejected: ${String(info.rejected[0])}`), { response: info.response });
      }
      return { response: info.response ?? "", messageId: info.messageId ?? message.messageId };
    },
    close() {
      transport.close();
    },
  };
}

export function describeMailError(err: unknown): MailFailure {
  const e = err as { response?: unknown; responseCode?: unknown; code?: unknown; message?: unknown };
  const response = typeof e.response === "string" && e.response !== "" ? e.response : null;
  const code = typeof e.code === "string" ? `${e.code}: ` : "";
  const message = typeof e.message === "string" ? e.message : String(err);
  return { smtpResponse: response, error: `${code}${message}`.slice(0, 2000) };
}

export function csvFilename(report: Pick<StoredReport, "projectKey" | "label">): string {
  return `ucledger-${report.projectKey}-${report.label}.csv`;
}

export function composeReportMessage(input: {
  report: StoredReport;
  charts: StoredChart[];
  subject: string;
  from: string;
  to: string;
}): MailMessage {
  const { report, charts } = input;
  const recipientHash = createHash("sha256").update(input.to).digest("hex").slice(0, 16);
  return {
    from: input.from,
    to: input.to,
    subject: input.subject,
    html: report.html,
    text: report.text,
    attachments: [
      ...charts.map((c) => ({
        filename: `${c.name}.png`,
        content: c.png,
        contentType: "image/png",
        cid: chartCid(c.name),
        contentDisposition: "inline" as const,
      })),
      { filename: csvFilename(report), content: report.csv, contentType: "text/csv; charset=utf-8", contentDisposition: "attachment" },
    ],
    messageId: `<${report.id}.${recipientHash}@ucledger.report>`,
    headers: { "X-Ucledger-Report": report.id },
  };
}
