import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Runtime } from "../bootstrap.ts";
import { getCharts, getReport } from "../db/queries/reports.ts";
import { loadEnv } from "../env.ts";
import { AppError, ConfigError, EXIT_CONFIG } from "../errors.ts";
import { resendReport } from "../reports/deliver.ts";
import { reportSettingsFrom } from "../reports/jobs.ts";
import { buildWeeklyReport, reportUrl } from "../reports/weekly/build.ts";
import { parseIsoWeek, previousCompleteWeek } from "../reports/weekly/period.ts";
import { withChartSources } from "../reports/weekly/render.ts";
import { linkBase, remoteJson, type RemoteServer } from "./remote.ts";
import { parseFlags, remoteServer, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = "usage: ucledger report weekly [--project KEY] [--week 2026-W47] [--send] [--out DIR]";

/**
 * `ucledger report weekly`: stores the weekly report of each project (the last
 * finished week by default; an existing report is reused, never rewritten),
 * optionally writes it to a folder and mails it to recipients not yet sent.
 */
export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { project: { type: "string" }, week: { type: "string" }, send: { type: "boolean" }, out: { type: "string" } },
    "report",
  );
  if (positionals[0] !== "weekly" || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_CONFIG;
  }
  if (values.week !== undefined) asConfigError(() => parseIsoWeek(values.week!));
  const server = remoteServer();
  if (server) return reportRemote(server, { project: values.project, week: values.week, send: values.send ?? false, out: values.out });
  if (values.send && !loadEnv().mail.smtpUrl) throw new ConfigError("--send: SMTP_URL is not set, so reports cannot be mailed");
  return withRuntime((runtime) => runReport(runtime, { project: values.project, week: values.week, send: values.send ?? false, out: values.out }));
}

function asConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AppError && err.code === "BAD_REQUEST") throw new ConfigError(`--${err.message}`);
    throw err;
  }
}

async function runReport(runtime: Runtime, options: { project?: string | undefined; week?: string | undefined; send: boolean; out?: string | undefined }): Promise<number> {
  const { env, database } = runtime;
  const timezone = env.schedules.timezone;
  // The running (or last) server's own address, not a guess from this process's PORT.
  const publicUrl = linkBase(env);
  const settings = reportSettingsFrom({ timezone, publicUrl, mail: env.mail });
  const now = () => new Date();
  const week = options.week ?? previousCompleteWeek(now(), timezone);
  let failed = false;

  for (const project of selectProjects(runtime, options.project)) {
    const built = await asConfigError(() =>
      buildWeeklyReport({ db: database.db, now }, { projectKey: project.publicKey, week, timezone, publicUrl }),
    );
    process.stdout.write(`${project.publicKey} ${week}: report ${built.id} (${built.inserted ? "new" : "stored earlier"}) ${reportUrl(publicUrl, built.id)}\n`);

    if (options.out) {
      const dir = resolve(options.out, `${project.publicKey}-${week}`);
      writeFolder(dir, await readReportFolder(runtime, built.id));
      process.stdout.write(`  wrote ${join(dir, "report.html")} with its charts, CSV, text and JSON\n`);
    }

    if (options.send && settings.mail) {
      const deliveries = await resendReport(
        { db: database.db, mailer: settings.mail.mailer, from: settings.mail.from, logger: runtime.logger, now },
        { reportId: built.id, recipients: settings.mail.recipients },
      );
      failed = printDeliveries(deliveries) || failed;
    }
  }
  return failed ? 1 : 0;
}

type Delivery = { recipient: string; status: string; smtpResponse: string | null; lastError: string | null };

/** One line per recipient; true when one was not sent. */
function printDeliveries(deliveries: Delivery[]): boolean {
  let failed = false;
  for (const d of deliveries) {
    process.stdout.write(`  ${d.recipient}: ${d.status}${d.smtpResponse ? ` (${d.smtpResponse})` : ""}${d.lastError && d.status !== "sent" ? `: ${d.lastError}` : ""}\n`);
    if (d.status !== "sent") failed = true;
  }
  return failed;
}

/** `report weekly` through the server holding the data directory: it stores (and mails), this process writes the folder. */
async function reportRemote(server: RemoteServer, options: { project?: string | undefined; week?: string | undefined; send: boolean; out?: string | undefined }): Promise<number> {
  const { body } = await remoteJson<{ week: string; reports: { projectKey: string; id: string; inserted: boolean; url: string; deliveries?: Delivery[] }[] }>(
    server,
    "POST",
    "/v1/cli/reports/weekly",
    { project: options.project, week: options.week, send: options.send },
  );
  let failed = false;
  for (const built of body.reports) {
    process.stdout.write(`${built.projectKey} ${body.week}: report ${built.id} (${built.inserted ? "new" : "stored earlier"}) ${built.url}\n`);
    if (options.out) {
      const dir = resolve(options.out, `${built.projectKey}-${body.week}`);
      const folder = (await remoteJson<Omit<ReportFolder, "charts"> & { charts: { name: string; png: string }[] }>(server, "GET", `/v1/cli/reports/${built.id}/folder`)).body;
      writeFolder(dir, { ...folder, charts: folder.charts.map((c) => ({ name: c.name, png: Buffer.from(c.png, "base64") })) });
      process.stdout.write(`  wrote ${join(dir, "report.html")} with its charts, CSV, text and JSON\n`);
    }
    if (built.deliveries) failed = printDeliveries(built.deliveries) || failed;
  }
  return failed ? 1 : 0;
}

/** A stored report as the files of `--out`: HTML whose images are the PNGs beside it, the CSV, the text and the JSON. */
interface ReportFolder {
  html: string;
  csv: string;
  text: string;
  content: unknown;
  charts: { name: string; png: Buffer }[];
}

async function readReportFolder(runtime: Runtime, reportId: string): Promise<ReportFolder> {
  const report = await getReport(runtime.database.db, reportId);
  if (!report) throw new Error(`report ${reportId} vanished while writing it out`);
  const charts = await getCharts(runtime.database.db, report.projectKey, report.id);
  return {
    html: withChartSources(report.html, (name) => `${name}.png`),
    csv: report.csv,
    text: report.text,
    content: report.content,
    charts: charts.map((c) => ({ name: c.name, png: Buffer.from(c.png) })),
  };
}

function writeFolder(dir: string, folder: ReportFolder): void {
  mkdirSync(dir, { recursive: true });
  for (const chart of folder.charts) writeFileSync(join(dir, `${chart.name}.png`), chart.png);
  writeFileSync(join(dir, "report.html"), folder.html);
  writeFileSync(join(dir, "report.csv"), folder.csv);
  writeFileSync(join(dir, "report.txt"), folder.text);
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(folder.content, null, 2)}\n`);
}
