import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import { getCharts, getReport, countReports, listReports, REPORT_ORDER, type ReportMeta, type StoredReport } from "../db/queries/reports.ts";
import { listDeliveries, type DeliveryEntry } from "../db/queries/reports-deliveries.ts";
import { DELIVERY_STATUSES, REPORT_KINDS } from "../db/schema/index.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { resendReport } from "../reports/deliver.ts";
import type { Mailer } from "../reports/mail.ts";
import { csvFilename } from "../reports/mail.ts";
import { withChartSources } from "../reports/weekly/render.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { conflictError, exportContent, json, listPage, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { countParam, list, listParams, projectParam, uuid } from "./params.ts";

/** Mail settings for `POST /v1/reports/{id}/send`; without them that route answers 409. */
export interface ReportMailDeps {
  mailer: Mailer;
  from: string;
  recipients: string[];
}

export type ReportsApiDeps = ApiDeps & { reportMail?: ReportMailDeps };

const chartPath = (id: string, name: string) => `/v1/reports/${id}/charts/${name}.png`;

const ReportMetaSchema = z
  .object({
    id: z.string().openapi({ format: "uuid" }),
    projectKey: z.string(),
    kind: z.enum(REPORT_KINDS),
    label: z.string().openapi({ example: "2026-W13", description: "The ISO week of a weekly report" }),
    timezone: z.string().openapi({ example: "Europe/Berlin" }),
    periodStart: z.string().openapi({ description: "First instant of the period (inclusive)" }),
    periodEnd: z.string().openapi({ description: "End of the period (exclusive)" }),
    createdAt: z.string(),
    charts: z.array(z.string()).openapi({ description: "Chart names: GET /v1/reports/{id}/charts/{name}.png" }),
  })
  .openapi("ReportMeta");

const DeliverySchema = z
  .object({
    recipient: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    smtpResponse: z.string().nullable().openapi({ description: "The SMTP server's last answer" }),
    lastError: z.string().nullable(),
    sentAt: z.string().nullable(),
  })
  .openapi("ReportDelivery");

const ReportSchema = ReportMetaSchema.extend({
  links: z.object({ html: z.string(), csv: z.string(), text: z.string(), charts: z.record(z.string(), z.string()) }),
  deliveries: z.array(DeliverySchema),
  content: z.record(z.string(), z.unknown()).openapi({ description: "The report's figures; the HTML, text, CSV and charts were rendered from exactly this" }),
}).openapi("Report");

const COLUMNS: Column<ReportMeta>[] = [
  { name: "id", value: (r) => r.id },
  { name: "project_key", value: (r) => r.projectKey },
  { name: "kind", value: (r) => r.kind },
  { name: "label", value: (r) => r.label },
  { name: "timezone", value: (r) => r.timezone },
  { name: "period_start", value: (r) => r.periodStart },
  { name: "period_end", value: (r) => r.periodEnd },
  { name: "created_at", value: (r) => r.createdAt },
  { name: "charts", value: (r) => r.charts.join(" ") },
];

const ListQuery = z.strictObject({
  project: projectParam,
  kind: list(z.enum(REPORT_KINDS, { message: `must be one of ${REPORT_KINDS.join(", ")}` }), "Kinds (weekly)").optional(),
  count: countParam,
  ...listParams,
});

const listRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/reports",
  tags: ["reports"],
  summary: "Stored reports, newest period first",
  request: { query: ListQuery },
  responses: {
    200: { description: "A page of reports, or the export", content: { "application/json": { schema: listPage(ReportMetaSchema, "ReportPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

const REPORT_FORMATS = ["json", "html", "csv", "text"] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];

const IdParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });

const getRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/reports/{id}",
  tags: ["reports"],
  summary: "One report as JSON, HTML, CSV or plain text",
  description:
    "`?format=` wins over the Accept header (application/json, text/html, text/csv, text/plain); JSON by default. " +
    "The HTML is the email as sent, with the charts embedded as data URIs so it opens on its own in a browser.",
  request: {
    params: IdParams,
    query: z.strictObject({
      format: z.enum(REPORT_FORMATS, { message: `must be one of ${REPORT_FORMATS.join(", ")}` }).optional().openapi({ description: "Overrides Accept" }),
    }),
  },
  responses: {
    200: {
      description: "The report",
      content: {
        "application/json": { schema: ReportSchema },
        "text/html": { schema: z.string() },
        "text/csv": { schema: z.string().openapi({ description: "section,item,metric,unit,this_week,previous_week,note" }) },
        "text/plain": { schema: z.string() },
      },
    },
    ...protectedErrors,
    ...notFoundError,
  },
});

const chartRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/reports/{id}/charts/{file}",
  tags: ["reports"],
  summary: "One chart of a report as PNG (`uploads.png`, `storage.png`, …)",
  request: {
    params: IdParams.extend({
      file: z
        .string()
        .regex(/^[a-z0-9-]{1,40}\.png$/, "must be a chart name followed by .png, such as uploads.png")
        .openapi({ param: { name: "file", in: "path" }, example: "uploads.png" }),
    }),
  },
  responses: {
    200: { description: "The chart, 2x", content: { "image/png": { schema: z.string().openapi({ format: "binary" }) } } },
    ...protectedErrors,
    ...notFoundError,
  },
});

const sendRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/reports/{id}/send",
  tags: ["reports"],
  summary: "Mail a report to the configured recipients that have not had it",
  description:
    "Recipients already sent are skipped; failed and given-up deliveries are tried again now, once each. " +
    "Answers with every recipient's delivery. 409 when this server has no SMTP settings.",
  request: { params: IdParams },
  responses: {
    200: json(z.object({ reportId: z.string(), deliveries: z.array(DeliverySchema) }).openapi("ReportSendResult"), "Each recipient's delivery after this attempt"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("This server has no SMTP settings"),
  },
});

function negotiate(c: Context, format: ReportFormat | undefined): ReportFormat {
  if (format) return format;
  const type = accepts(c, {
    header: "Accept",
    supports: ["application/json", "text/html", "text/csv", "text/plain"],
    default: "application/json",
  });
  return type === "text/html" ? "html" : type === "text/csv" ? "csv" : type === "text/plain" ? "text" : "json";
}

const deliveryOut = (d: DeliveryEntry) => ({
  recipient: d.recipient,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt,
  smtpResponse: d.smtpResponse,
  lastError: d.lastError,
  sentAt: d.sentAt,
});

async function reportOr404(deps: ApiDeps, id: string): Promise<StoredReport> {
  const report = await getReport(deps.database.db, id);
  if (!report) throw new NotFoundError("report", id);
  return report;
}

export function registerReports(app: App, deps: ReportsApiDeps) {
  const db = deps.database.db;

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const filter = { projects: await resolveProjects(db, q.project), kinds: q.kind };
    return respondList(
      c,
      deps,
      {
        scope: "reports",
        order: REPORT_ORDER,
        columns: COLUMNS,
        page: (after, limit) => listReports(db, { filter, after, limit }),
        count: (mode) => countReports(db, filter, mode),
      },
      q,
    );
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const report = await reportOr404(deps, id);
    const format = negotiate(c, c.req.valid("query").format);
    c.header("Vary", "Accept");
    if (format === "csv") {
      return c.body(report.csv, 200, { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="${csvFilename(report)}"` });
    }
    if (format === "text") return c.body(report.text, 200, { "Content-Type": "text/plain; charset=utf-8" });
    if (format === "html") {
      const charts = new Map((await getCharts(db, report.projectKey, report.id)).map((ch) => [ch.name, ch.png]));
      // A browser sends no bearer token for <img>: the charts travel inside the page.
      const html = withChartSources(report.html, (name) => `data:image/png;base64,${charts.get(name)?.toString("base64") ?? ""}`);
      return c.body(html, 200, {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
      });
    }
    const { content, html: _html, text: _text, csv: _csv, ...meta } = report;
    const base = `/v1/reports/${report.id}`;
    return c.json(
      {
        ...meta,
        links: {
          html: `${base}?format=html`,
          csv: `${base}?format=csv`,
          text: `${base}?format=text`,
          charts: Object.fromEntries(report.charts.map((name) => [name, chartPath(report.id, name)])),
        },
        deliveries: (await listDeliveries(db, report.projectKey, report.id)).map(deliveryOut),
        content,
      },
      200,
    );
  });

  app.openapi(chartRoute, async (c) => {
    const { id, file } = c.req.valid("param");
    const name = file.slice(0, -".png".length);
    const report = await reportOr404(deps, id);
    const [chart] = await getCharts(db, report.projectKey, report.id, name);
    if (!chart) throw new NotFoundError("chart", `${name} of report ${id}`);
    return c.body(new Uint8Array(chart.png), 200, { "Content-Type": "image/png", "Cache-Control": "private, max-age=86400, immutable" });
  });

  app.openapi(sendRoute, async (c) => {
    const { id } = c.req.valid("param");
    const mail = deps.reportMail;
    if (!mail) throw new ConflictError("this server has no SMTP settings (SMTP_URL, REPORT_FROM, REPORT_RECIPIENTS): reports are stored, not mailed");
    await reportOr404(deps, id);
    const deliveries = await resendReport(
      { db, mailer: mail.mailer, from: mail.from, logger: deps.logger, now: deps.now ?? (() => new Date()) },
      { reportId: id, recipients: mail.recipients },
    );
    return c.json({ reportId: id, deliveries: deliveries.map(deliveryOut) }, 200);
  });
}
