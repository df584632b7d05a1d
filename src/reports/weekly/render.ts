import type { WeeklyReport } from "./compute.ts";
import { chartList, formatBytes, formatCount, formatSigned, localTime, weekRangeLabel } from "./format.ts";
import { chartTable, deletionsTable, deliveriesTable, expiringTable, figureNotes, largestTable, plansTable, statusTable, summaryTable, syncTable, type Table, usageTable } from "./report-tables.ts";
import { orphansSummary, orphansTable } from "./orphans.ts";
import { anchorsLines, anchorsSummary, anchorsTable } from "./anchors.ts";
import { costsOf, costsSummary, costsUsageTable } from "./costs-section.ts";

/**
 * The report as HTML (an email that Outlook and phone clients show alike:
 * tables for layout, inline styles, charts as `cid:` images), plain text and
 * CSV. The JSON form is the report object itself.
 */

export interface RenderOptions {
  /** Where the report can be opened in the API. */
  reportUrl: string;
}

/** Content-ID of a chart in the email; stored HTML refers to charts this way. */
export function chartCid(name: string): string {
  return `${name}@ucledger.report`;
}

/** Points the stored HTML's chart images somewhere else: API URLs, or files next to the HTML. */
export function withChartSources(html: string, source: (name: string) => string): string {
  return html.replace(/src="cid:([a-z0-9-]+)@ucledger\.report"/g, (_, name: string) => `src="${escapeHtml(source(name))}"`);
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

export function reportSubject(report: WeeklyReport): string {
  return `Weekly report ${report.period.week} for ${report.project.name}: ${formatCount(report.totals.uploads.current)} uploads, storage ${formatSigned(report.storage.growthBytes.current, formatBytes)}`;
}

// ---------------------------------------------------------------- HTML

const FONT = "font-family:Arial,Helvetica,sans-serif;";

function htmlTable(table: Table): string {
  const numeric = new Set(table.numeric ?? []);
  const th = table.headers
    .map((h, i) => `<th align="${numeric.has(i) ? "right" : "left"}" style="${FONT}font-size:12px;color:#555;font-weight:bold;padding:6px 8px;border-bottom:2px solid #d0d5dd;text-align:${numeric.has(i) ? "right" : "left"};">${escapeHtml(h)}</th>`)
    .join("");
  const rows = table.rows
    .map((row, r) => {
      const bg = r % 2 === 1 ? "#f7f8fa" : "#ffffff";
      const tds = row
        .map((cell, i) => {
          const c = typeof cell === "string" ? { text: cell } : cell;
          const align = c.align ?? (numeric.has(i) ? "right" : "left");
          return `<td align="${align}" style="${FONT}font-size:13px;color:${c.color ?? "#222"};padding:5px 8px;border-bottom:1px solid #eaecf0;text-align:${align};${c.bold ? "font-weight:bold;" : ""}${align === "right" ? "white-space:nowrap;" : "word-break:break-word;"}">${escapeHtml(c.text)}</td>`;
        })
        .join("");
      return `<tr style="background:${bg};">${tds}</tr>`;
    })
    .join("\n");
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;width:100%;">\n<tr>${th}</tr>\n${rows}\n</table>`;
}

const heading = (title: string) =>
  `<tr><td style="${FONT}padding:24px 20px 8px 20px;font-size:18px;font-weight:bold;color:#111;">${escapeHtml(title)}</td></tr>`;
const paragraph = (body: string) => `<tr><td style="${FONT}padding:0 20px 8px 20px;font-size:14px;line-height:20px;color:#333;">${body}</td></tr>`;
/** Small print beside figures: what they count. */
const note = (text: string) => `<tr><td style="${FONT}padding:0 20px 8px 20px;font-size:12px;line-height:17px;color:#555;">${escapeHtml(text)}</td></tr>`;
const tableRow = (table: Table) => `<tr><td style="padding:0 20px 8px 20px;">${htmlTable(table)}</td></tr>`;

function chartRows(r: WeeklyReport, name: string, title: string): string {
  const img = `<img src="cid:${chartCid(name)}" width="600" alt="${escapeHtml(title)}" style="display:block;width:100%;max-width:600px;height:auto;border:0;outline:none;">`;
  return `<tr><td style="padding:8px 20px 4px 20px;">${img}</td></tr>\n${tableRow(chartTable(r, name))}`;
}

/** The anchors as JSON lines to copy into a file: monospace, broken anywhere rather than overflowing a phone's screen. */
function anchorLinesRow(r: WeeklyReport): string {
  const lines = anchorsLines(r).split("\n").map(escapeHtml).join("<br>");
  return `<tr><td style="padding:0 20px 8px 20px;font-family:Menlo,Consolas,monospace;font-size:11px;line-height:16px;color:#333;word-break:break-all;">${lines}</td></tr>`;
}

/** The costs section (docs/costs.md); reports stored before it existed have none. */
function costsRows(r: WeeklyReport): string[] {
  const costs = costsOf(r);
  if (!costs) return [];
  const table = costsUsageTable(costs);
  const [first, ...rest] = costsSummary(costs);
  const method = rest.pop();
  return [heading("Costs"), paragraph(escapeHtml([first, ...rest].join(" "))), table ? tableRow(table) : "", method ? note(method) : ""];
}

export function renderHtml(r: WeeklyReport, options: RenderOptions): string {
  const charts = new Map(chartList(r).map((c) => [c.name, c.title]));
  const chart = (name: string) => (charts.has(name) ? chartRows(r, name, charts.get(name)!) : "");
  const tz = r.period.timezone;
  const dst = r.period.hours !== 168 ? ` The week had ${r.period.hours} hours: the clocks changed.` : "";
  const notes = figureNotes(r);
  const link = `<a href="${escapeHtml(options.reportUrl)}" style="color:#2f6fdf;">${escapeHtml(options.reportUrl)}</a>`;
  const sections: string[] = [
    `<tr><td style="${FONT}padding:20px 20px 4px 20px;font-size:22px;font-weight:bold;color:#111;">Weekly report ${escapeHtml(r.period.week)}: ${escapeHtml(r.project.name)}</td></tr>`,
    paragraph(
      `${escapeHtml(weekRangeLabel(r))}, Monday to Sunday in ${escapeHtml(tz)}, beside the week before (${escapeHtml(r.period.previousWeek)}).${dst} ` +
        `Project <code>${escapeHtml(r.project.key)}</code>. Figures as the ledger knew them at ${escapeHtml(localTime(r.generatedAt, tz))}.`,
    ),
    paragraph(`Open this report in ucledger: ${link}`),
    heading("Summary"),
    tableRow(summaryTable(r)),
    note(notes.storage),
    note(notes.removals),
    heading("Uploads"),
    chart("uploads"),
    heading("Storage"),
    chart("storage"),
    heading("Types of new files"),
    chart("mime-types"),
    heading("Largest new files"),
    r.largestFiles.length ? tableRow(largestTable(r)) : paragraph("No files were uploaded this week."),
    heading("Unstored files about to expire"),
    paragraph(
      `Uploadcare removes a file that is not stored 24 hours after upload. At the end of the week ${formatCount(r.expiring.files.current)} file(s), ${formatBytes(r.expiring.bytes.current)}, were neither stored nor removed and expire within 24 hours ` +
        `(previous week: ${formatCount(r.expiring.files.previous)}, ${formatBytes(r.expiring.bytes.previous)}).`,
    ),
    r.expiring.list.length ? tableRow(expiringTable(r)) : "",
    heading("Deletions"),
    r.deletions.byActor.length
      ? `${paragraph(`${formatCount(r.deletions.files.current)} removal(s) in the audit trail this week, ${formatCount(r.deletions.files.previous)} the week before.`)}\n${tableRow(deletionsTable(r))}`
      : paragraph("No removals in the audit trail in either week."),
    heading("Uploadcare usage"),
    r.usage.synced ? (charts.has("traffic") ? chart("traffic") : tableRow(usageTable(r))) : paragraph("Not synced: there are no usage figures for this week (the usage stream needs a project API token)."),
    r.usage.synced && notes.usageStorage ? note(notes.usageStorage) : "",
    ...costsRows(r),
    heading("Uploadcare API requests"),
    chart("api-requests"),
    r.apiRequests.byStatus.length ? tableRow(statusTable(r)) : paragraph("No requests to Uploadcare were recorded in either week."),
    heading("Plans applied"),
    r.plans.byPlan.length ? tableRow(plansTable(r)) : paragraph("No plans were applied in either week."),
    heading("Sync health"),
    r.sync.lanes.length ? tableRow(syncTable(r)) : paragraph("No sync runs recorded."),
    heading("Report deliveries"),
    tableRow(deliveriesTable(r)),
    heading("Orphans: files nothing references"),
    paragraph(escapeHtml(orphansSummary(r))),
    r.orphans.sources.length ? tableRow(orphansTable(r)) : "",
    heading("Signed audit anchors"),
    paragraph(escapeHtml(anchorsSummary(r))),
    r.anchors.latest.length ? tableRow(anchorsTable(r)) : "",
    r.anchors.latest.length ? anchorLinesRow(r) : "",
    paragraph(`<span style="font-size:12px;color:#666;">Sizes in decimal units (1 MB = 1,000,000 bytes). The week's figures are attached as CSV. Written by ucledger; its delivery record says whether and when it was sent.</span>`),
  ];
  return `<!DOCTYPE html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>${escapeHtml(reportSubject(r))}</title>
</head>
<body style="margin:0;padding:0;background:#f2f4f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f2f4f7;">
<tr><td align="center" style="padding:16px 8px;">
<!--[if mso]><table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:640px;width:100%;background:#ffffff;border:1px solid #e4e7ec;">
${sections.filter(Boolean).join("\n")}
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
</table>
</body>
</html>
`;
}

export { renderText, renderCsv, CSV_HEADER } from "./render-plain.ts";
