import { z } from "@hono/zod-openapi";
import { stream } from "hono/streaming";
import { parseAnchorsFile } from "../db/audit/anchor-file.ts";
import { verifyAgainstAnchors, type AnchoredReport } from "../db/audit/anchor-verify.ts";
import type { Anchor } from "../db/audit/anchors.ts";
import type { Db } from "../db/client.ts";
import { getCharts, getReport } from "../db/queries/reports.ts";
import { AppError, NotFoundError, ValidationError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { resendReport } from "../reports/deliver.ts";
import type { Mailer } from "../reports/mail.ts";
import { buildWeeklyReport, reportUrl } from "../reports/weekly/build.ts";
import { parseIsoWeek, previousCompleteWeek } from "../reports/weekly/period.ts";
import { withChartSources } from "../reports/weekly/render.ts";
import type { RunSummary } from "../sync/runs.ts";
import type { PageProgress } from "../sync/files/lane-deps.ts";
import type { App } from "./app.ts";
import { json, notFoundError, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";
import { text, uuid } from "./params.ts";

// What `ucledger` asks of the server that holds its data directory (embedded
// PGlite opens in one process only): the few operations the CLI cannot do with
// the public routes alone, answered in the CLI's own shapes so that it prints
// the same lines and exits with the same codes as when it runs them itself.
// A bad --project or --week is a 400 whose message names the flag.

export interface CliBridgeDeps {
  db: Db;
  logger: Logger;
  /** The configured projects, in order. */
  projects: string[];
  /** One pass of a stream by hand (jobs.ts runManualSync); `full` is for files only. */
  sync(input: { stream: "files" | "usage"; projectKeys: string[]; full: boolean; onPage: (projectKey: string, progress: PageProgress) => void }): Promise<{ summaries: RunSummary[]; held: string[] }>;
  /** Public keys (PEM) of the audit anchors; empty: only their positions are checked. */
  auditPublicKeys: string[];
  reports: { timezone: string; publicUrl: string; mail: { mailer: Mailer; from: string; recipients: string[] } | undefined };
  now?: () => Date;
}

const ProjectFlag = text(200, "One configured project (--project)").optional();

const syncRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/cli/sync/{stream}",
  tags: ["cli"],
  summary: "`ucledger sync files|usage` run by the server, streamed",
  description:
    "Runs the stream now for each project, under its claim, and streams NDJSON: `{type:\"progress\",projectKey,lane,pages,seen,expected}` per page, " +
    "`{type:\"held\",message}` for a project another run holds, then `{type:\"done\",summaries}` (or `{type:\"error\",message}`).",
  request: {
    params: z.object({ stream: z.enum(["files", "usage"], { message: "must be files or usage" }).openapi({ param: { name: "stream", in: "path" } }) }),
    body: { content: { "application/json": { schema: z.strictObject({ project: ProjectFlag, full: z.boolean().optional() }).openapi("CliSync") } }, required: false },
  },
  responses: { 200: { description: "NDJSON progress, then the runs", content: { "application/x-ndjson": { schema: z.string() } } }, ...protectedErrors, ...tooLargeError },
});

const verifyRoute = protectedRoute("viewer", {
  method: "post",
  path: "/v1/cli/audit/verify",
  tags: ["cli"],
  summary: "`ucledger audit verify` run by the server",
  request: {
    body: {
      content: {
        "application/json": {
          schema: z
            .strictObject({
              project: ProjectFlag,
              full: z.boolean().optional(),
              anchors: z.string().max(60_000).optional().openapi({ description: "The text of an anchors file (`audit anchors --json`), checked besides the table's" }),
            })
            .openapi("CliAuditVerify"),
        },
      },
      required: false,
    },
  },
  responses: {
    200: json(z.object({ signaturesChecked: z.boolean(), reports: z.array(z.record(z.string(), z.unknown())) }).openapi("CliAuditReports"), "One report per project"),
    ...protectedErrors,
    ...tooLargeError,
  },
});

const reportRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/cli/reports/weekly",
  tags: ["cli"],
  summary: "`ucledger report weekly` run by the server: stores each project's report (and mails it with `send`)",
  request: {
    body: {
      content: {
        "application/json": {
          schema: z.strictObject({ project: ProjectFlag, week: text(20, "ISO week, e.g. 2026-W47").optional(), send: z.boolean().optional() }).openapi("CliReportWeekly"),
        },
      },
      required: false,
    },
  },
  responses: {
    200: json(z.object({ week: z.string(), reports: z.array(z.record(z.string(), z.unknown())) }).openapi("CliReports"), "The stored reports, and deliveries when sent"),
    ...protectedErrors,
    ...tooLargeError,
  },
});

const folderRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/cli/reports/{id}/folder",
  tags: ["cli"],
  summary: "A stored report as the files of `report weekly --out DIR` (charts as base64 PNG)",
  request: { params: z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) }) },
  responses: {
    200: json(
      z
        .object({ html: z.string(), csv: z.string(), text: z.string(), content: z.record(z.string(), z.unknown()), charts: z.array(z.object({ name: z.string(), png: z.string() })) })
        .openapi("CliReportFolder"),
      "The report's files",
    ),
    ...protectedErrors,
    ...notFoundError,
  },
});

/** The projects a command acts on: all, or the configured one `--project` names (as the CLI's own selectProjects says it). */
function select(projects: string[], project: string | undefined): string[] {
  if (project === undefined) return projects;
  if (!projects.includes(project)) throw new ValidationError(`--project: ${project} is not a configured project (configured: ${projects.join(", ")})`);
  return [project];
}

export function registerCliBridge(app: App, deps: CliBridgeDeps): void {
  const now = deps.now ?? (() => new Date());

  app.openapi(syncRoute, async (c) => {
    const { stream: name } = c.req.valid("param");
    const body = (c.req.valid("json") ?? {}) as { project?: string; full?: boolean };
    const projectKeys = select(deps.projects, body.project);
    if (body.full && name !== "files") throw new ValidationError("--full: only the files stream has a full scan");
    c.header("Content-Type", "application/x-ndjson");
    return stream(c, async (out) => {
      const line = (value: unknown) => out.write(`${JSON.stringify(value)}\n`);
      try {
        const result = await deps.sync({
          stream: name,
          projectKeys,
          full: body.full ?? false,
          onPage: (projectKey, progress) => void line({ type: "progress", projectKey, ...progress }),
        });
        for (const message of result.held) await line({ type: "held", message });
        await line({ type: "done", summaries: result.summaries });
      } catch (err) {
        deps.logger.error({ err }, "cli sync failed");
        await line({ type: "error", message: err instanceof AppError ? err.message : "the sync failed on the server: see its log" });
      }
    }) as never;
  });

  app.openapi(verifyRoute, async (c) => {
    const body = (c.req.valid("json") ?? {}) as { project?: string; full?: boolean; anchors?: string };
    const projectKeys = select(deps.projects, body.project);
    let fileAnchors: Anchor[] | undefined;
    if (body.anchors !== undefined) {
      try {
        fileAnchors = parseAnchorsFile(body.anchors);
      } catch (err) {
        throw new ValidationError(`--anchors: the file ${(err as Error).message}`);
      }
    }
    const reports: AnchoredReport[] = [];
    for (const projectKey of projectKeys) {
      reports.push(await verifyAgainstAnchors(deps.db, projectKey, { publicKeys: deps.auditPublicKeys, fileAnchors, full: body.full ?? false }));
    }
    return c.json({ signaturesChecked: deps.auditPublicKeys.length > 0, reports: reports as unknown as Record<string, unknown>[] }, 200);
  });

  app.openapi(reportRoute, async (c) => {
    const body = (c.req.valid("json") ?? {}) as { project?: string; week?: string; send?: boolean };
    const { timezone, publicUrl, mail } = deps.reports;
    if (body.week !== undefined) {
      try {
        parseIsoWeek(body.week);
      } catch (err) {
        throw new ValidationError(`--${(err as Error).message}`);
      }
    }
    if (body.send && !mail) throw new ValidationError("--send: SMTP_URL is not set on the server, so reports cannot be mailed");
    const week = body.week ?? previousCompleteWeek(now(), timezone);
    const reports: Record<string, unknown>[] = [];
    for (const projectKey of select(deps.projects, body.project)) {
      const built = await buildWeeklyReport({ db: deps.db, now }, { projectKey, week, timezone, publicUrl });
      const deliveries =
        body.send && mail
          ? await resendReport({ db: deps.db, mailer: mail.mailer, from: mail.from, logger: deps.logger, now }, { reportId: built.id, recipients: mail.recipients })
          : undefined;
      reports.push({ projectKey, id: built.id, inserted: built.inserted, url: reportUrl(publicUrl, built.id), deliveries });
    }
    return c.json({ week, reports }, 200);
  });

  app.openapi(folderRoute, async (c) => {
    const { id } = c.req.valid("param");
    const report = await getReport(deps.db, id);
    if (!report) throw new NotFoundError("report", id);
    const charts = await getCharts(deps.db, report.projectKey, report.id);
    return c.json(
      {
        html: withChartSources(report.html, (name) => `${name}.png`),
        csv: report.csv,
        text: report.text,
        content: report.content as Record<string, unknown>,
        charts: charts.map((ch) => ({ name: ch.name, png: Buffer.from(ch.png).toString("base64") })),
      },
      200,
    );
  });
}
