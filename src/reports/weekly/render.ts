import type { Pair, WeeklyReport } from "./compute.ts";
import { change, chartList, dayLabel, formatBytes, formatCount, formatSigned, localTime, weekRangeLabel } from "./format.ts";

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

// ---------------------------------------------------------------- tables

type Cell = string | { text: string; align?: "left" | "right"; bold?: boolean; color?: string };

interface Table {
  headers: string[];
  rows: Cell[][];
  /** Which columns hold numbers (right-aligned). */
  numeric?: number[];
}

/** This week, previous week, and the change; `signed` for figures that are themselves changes (growth). */
const pairCells = (pair: Pair, format: (n: number) => string = formatCount, signed = false): Cell[] => [
  signed ? formatSigned(pair.current, format) : format(pair.current),
  signed ? formatSigned(pair.previous, format) : format(pair.previous),
  { text: formatSigned(change(pair), format), color: change(pair) === 0 ? "#666" : change(pair) > 0 ? "#1a7f37" : "#b42318" },
];

function summaryTable(r: WeeklyReport): Table {
  const bytes = (n: number) => formatBytes(n);
  return {
    headers: ["Figure", "This week", "Previous week", "Change"],
    numeric: [1, 2, 3],
    rows: [
      ["Files uploaded", ...pairCells(r.totals.uploads)],
      ["Bytes uploaded", ...pairCells(r.totals.uploadBytes, bytes)],
      ["Files stored", ...pairCells(r.totals.stored)],
      ["Uploads left unstored", ...pairCells(r.totals.unstored)],
      ["Files removed", ...pairCells(r.totals.removed)],
      ["Stored at the end of the week", ...pairCells(r.storage.bytesAtEnd, bytes)],
      ["Storage growth", ...pairCells(r.storage.growthBytes, bytes, true)],
      ["Stored files at the end of the week", ...pairCells(r.storage.filesAtEnd)],
      ["Unstored files expiring within 24 h of the week's end", ...pairCells(r.expiring.files)],
      ["Deletions in the audit trail", ...pairCells(r.deletions.files)],
      ["Uploadcare API requests", ...pairCells(r.apiRequests.requests)],
      ["Uploadcare API errors", ...pairCells(r.apiRequests.errors)],
      ["Files acted on by plans", ...pairCells(r.plans.files)],
      ["Failed sync runs", ...pairCells(r.sync.failedRuns)],
      ["Failed report deliveries (attempts)", ...pairCells(r.deliveries.failedAttempts)],
    ],
  };
}

function chartTable(r: WeeklyReport, name: string): Table {
  switch (name) {
    case "uploads":
      return {
        headers: ["Day", "Files", "Bytes", "Files, previous week", "Bytes, previous week"],
        numeric: [1, 2, 3, 4],
        rows: [
          ...r.days.map((d) => [dayLabel(d.date) + (d.hours !== 24 ? ` (${d.hours} h)` : ""), formatCount(d.uploads.current), formatBytes(d.uploadBytes.current), formatCount(d.uploads.previous), formatBytes(d.uploadBytes.previous)]),
          [{ text: "Week", bold: true }, { text: formatCount(r.totals.uploads.current), bold: true }, { text: formatBytes(r.totals.uploadBytes.current), bold: true }, { text: formatCount(r.totals.uploads.previous), bold: true }, { text: formatBytes(r.totals.uploadBytes.previous), bold: true }],
        ],
      };
    case "storage":
      return {
        headers: ["Day", "Stored (files)", "Removed (files)", "Stored at day's end", "Same day, previous week"],
        numeric: [1, 2, 3, 4],
        rows: [
          ["Start of week", "", "", formatBytes(r.storage.bytesAtStart.current), formatBytes(r.storage.bytesAtStart.previous)],
          ...r.days.map((d) => [dayLabel(d.date), formatCount(d.stored.current), formatCount(d.removed.current), formatBytes(d.storageBytesAtEnd.current), formatBytes(d.storageBytesAtEnd.previous)]),
          [{ text: "Growth", bold: true }, { text: formatCount(r.totals.stored.current), bold: true }, { text: formatCount(r.totals.removed.current), bold: true }, { text: formatSigned(r.storage.growthBytes.current, formatBytes), bold: true }, { text: formatSigned(r.storage.growthBytes.previous, formatBytes), bold: true }],
        ],
      };
    case "mime-types":
      return {
        headers: ["MIME type", "Files", "Bytes", "Files, previous week", "Bytes, previous week"],
        numeric: [1, 2, 3, 4],
        rows: r.mimeTypes.length
          ? r.mimeTypes.map((m) => [m.mimeType, formatCount(m.files.current), formatBytes(m.bytes.current), formatCount(m.files.previous), formatBytes(m.bytes.previous)])
          : [["No uploads in either week", "", "", "", ""]],
      };
    case "api-requests":
      return {
        headers: ["Day", "Requests", "Errors", "Requests, previous week", "Errors, previous week"],
        numeric: [1, 2, 3, 4],
        rows: [
          ...r.apiRequests.days.map((d) => [dayLabel(d.date), formatCount(d.requests.current), formatCount(d.errors.current), formatCount(d.requests.previous), formatCount(d.errors.previous)]),
          [{ text: "Week", bold: true }, { text: formatCount(r.apiRequests.requests.current), bold: true }, { text: formatCount(r.apiRequests.errors.current), bold: true }, { text: formatCount(r.apiRequests.requests.previous), bold: true }, { text: formatCount(r.apiRequests.errors.previous), bold: true }],
        ],
      };
    case "traffic":
      return usageTable(r);
    default:
      throw new RangeError(`no chart named ${name}`);
  }
}

function usageValue(metric: string, value: number | null): string {
  if (value === null) return "—";
  return metric === "operations" ? formatCount(value) : formatBytes(value);
}

function usageTable(r: WeeklyReport): Table {
  const metrics = r.usage.metrics;
  return {
    headers: ["Day", ...metrics.flatMap((m) => [m.metric, `${m.metric}, previous week`])],
    numeric: metrics.flatMap((_, i) => [1 + 2 * i, 2 + 2 * i]),
    rows: [
      ...r.days.map((d, i) => [dayLabel(d.date), ...metrics.flatMap((m) => [usageValue(m.metric, m.days[i]!.current), usageValue(m.metric, m.days[i]!.previous)])]),
      [
        { text: "Week", bold: true },
        ...metrics.flatMap((m): Cell[] => [
          { text: `${usageValue(m.metric, m.total.current)}${m.aggregate === "last" ? " (last day)" : ""}`, bold: true },
          { text: usageValue(m.metric, m.total.previous), bold: true },
        ]),
      ],
    ],
  };
}

function largestTable(r: WeeklyReport): Table {
  return {
    headers: ["File", "Type", "Size", "Uploaded", "State at week's end", "UUID"],
    numeric: [2],
    rows: r.largestFiles.map((f) => [f.filename, f.mimeType, formatBytes(f.size), localTime(f.uploadedAt, r.period.timezone), f.state, f.uuid]),
  };
}

function expiringTable(r: WeeklyReport): Table {
  return {
    headers: ["File", "Size", "Uploaded", "Expires", "UUID"],
    numeric: [1],
    rows: r.expiring.list.map((f) => [f.filename, formatBytes(f.size), localTime(f.uploadedAt, r.period.timezone), localTime(f.expiresAt, r.period.timezone), f.uuid]),
  };
}

function deletionsTable(r: WeeklyReport): Table {
  return {
    headers: ["Who", "Source", "Files", "Bytes", "Files, previous week"],
    numeric: [2, 3, 4],
    rows: r.deletions.byActor.map((d) => [d.actor, d.source, formatCount(d.files.current), formatBytes(d.bytes.current), formatCount(d.files.previous)]),
  };
}

function statusTable(r: WeeklyReport): Table {
  return {
    headers: ["HTTP status", "This week", "Previous week", "Change"],
    numeric: [1, 2, 3],
    rows: r.apiRequests.byStatus.map((s) => [{ text: s.status === "none" ? "no answer" : s.status, color: s.error ? "#b42318" : "#222" }, ...pairCells(s.requests)]),
  };
}

function plansTable(r: WeeklyReport): Table {
  return {
    headers: ["Plan", "Event kind", "Files this week", "Files previous week"],
    numeric: [2, 3],
    rows: r.plans.byPlan.map((p) => [p.planId, p.kind, formatCount(p.files.current), formatCount(p.files.previous)]),
  };
}

function syncTable(r: WeeklyReport): Table {
  const tz = r.period.timezone;
  return {
    headers: ["Stream / lane", "Last success by week's end", "Failed runs", "Failed, previous week", "Rate-limited or partial"],
    numeric: [2, 3, 4],
    rows: r.sync.lanes.map((l) => [
      `${l.stream} / ${l.lane}`,
      localTime(l.lastSuccessAt, tz),
      { text: formatCount(l.failedRuns.current), color: l.failedRuns.current > 0 ? "#b42318" : "#222" },
      formatCount(l.failedRuns.previous),
      formatCount(l.incompleteRuns.current),
    ]),
  };
}

function deliveriesTable(r: WeeklyReport): Table {
  return {
    headers: ["Report deliveries", "This week", "Previous week", "Change"],
    numeric: [1, 2, 3],
    rows: [
      ["Failed attempts", ...pairCells(r.deliveries.failedAttempts)],
      ["Deliveries with a failed attempt", ...pairCells(r.deliveries.deliveries)],
      ["Deliveries given up", ...pairCells(r.deliveries.gaveUp)],
    ],
  };
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
const tableRow = (table: Table) => `<tr><td style="padding:0 20px 8px 20px;">${htmlTable(table)}</td></tr>`;

function chartRows(r: WeeklyReport, name: string, title: string): string {
  const img = `<img src="cid:${chartCid(name)}" width="600" alt="${escapeHtml(title)}" style="display:block;width:100%;max-width:600px;height:auto;border:0;outline:none;">`;
  return `<tr><td style="padding:8px 20px 4px 20px;">${img}</td></tr>\n${tableRow(chartTable(r, name))}`;
}

export function renderHtml(r: WeeklyReport, options: RenderOptions): string {
  const charts = new Map(chartList(r).map((c) => [c.name, c.title]));
  const chart = (name: string) => (charts.has(name) ? chartRows(r, name, charts.get(name)!) : "");
  const tz = r.period.timezone;
  const dst = r.period.hours !== 168 ? ` The week had ${r.period.hours} hours: the clocks changed.` : "";
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
    heading("Uploadcare API requests"),
    chart("api-requests"),
    r.apiRequests.byStatus.length ? tableRow(statusTable(r)) : paragraph("No requests to Uploadcare were recorded in either week."),
    heading("Plans applied"),
    r.plans.byPlan.length ? tableRow(plansTable(r)) : paragraph("No plans were applied in either week."),
    heading("Sync health"),
    r.sync.lanes.length ? tableRow(syncTable(r)) : paragraph("No sync runs recorded."),
    heading("Report deliveries"),
    tableRow(deliveriesTable(r)),
    paragraph(`<span style="font-size:12px;color:#666;">Sizes in decimal units (1 MB = 1,000,000 bytes). The week's figures are attached as CSV. Sent by ucledger.</span>`),
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

// ---------------------------------------------------------------- text

function textTable(table: Table): string {
  const cells = [table.headers, ...table.rows.map((row) => row.map((c) => (typeof c === "string" ? c : c.text)))];
  const numeric = new Set(table.numeric ?? []);
  const widths = table.headers.map((_, i) => Math.min(48, Math.max(...cells.map((row) => (row[i] ?? "").length))));
  return cells
    .map((row) =>
      row
        .map((cell, i) => {
          const text = cell.length > widths[i]! ? `${cell.slice(0, widths[i]! - 1)}…` : cell;
          return numeric.has(i) ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function renderText(r: WeeklyReport, options: RenderOptions): string {
  const charts = new Map(chartList(r).map((c) => [c.name, c.title]));
  const block = (title: string, body: string) => `${title}\n${"-".repeat(title.length)}\n${body}\n`;
  const parts = [
    `Weekly report ${r.period.week}: ${r.project.name} (${r.project.key})`,
    `${weekRangeLabel(r)}, Monday to Sunday in ${r.period.timezone}, beside ${r.period.previousWeek}.${r.period.hours !== 168 ? ` The week had ${r.period.hours} hours.` : ""}`,
    `Figures as the ledger knew them at ${localTime(r.generatedAt, r.period.timezone)}.`,
    `Open in ucledger: ${options.reportUrl}`,
    "",
    block("Summary", textTable(summaryTable(r))),
    block(charts.get("uploads")!, textTable(chartTable(r, "uploads"))),
    block(charts.get("storage")!, textTable(chartTable(r, "storage"))),
    block(charts.get("mime-types")!, textTable(chartTable(r, "mime-types"))),
    block("Largest new files", r.largestFiles.length ? textTable(largestTable(r)) : "No files were uploaded this week."),
    block(
      "Unstored files about to expire",
      `${formatCount(r.expiring.files.current)} file(s), ${formatBytes(r.expiring.bytes.current)}, expire within 24 hours of the week's end (previous week: ${formatCount(r.expiring.files.previous)}).` +
        (r.expiring.list.length ? `\n${textTable(expiringTable(r))}` : ""),
    ),
    block("Deletions", r.deletions.byActor.length ? textTable(deletionsTable(r)) : "No removals in the audit trail in either week."),
    block("Uploadcare usage", r.usage.synced ? textTable(usageTable(r)) : "Not synced: there are no usage figures for this week."),
    block(charts.get("api-requests")!, `${textTable(chartTable(r, "api-requests"))}${r.apiRequests.byStatus.length ? `\n\n${textTable(statusTable(r))}` : ""}`),
    block("Plans applied", r.plans.byPlan.length ? textTable(plansTable(r)) : "No plans were applied in either week."),
    block("Sync health", r.sync.lanes.length ? textTable(syncTable(r)) : "No sync runs recorded."),
    block("Report deliveries", textTable(deliveriesTable(r))),
    "Sizes in decimal units (1 MB = 1,000,000 bytes). Sent by ucledger.",
  ];
  return `${parts.join("\n")}\n`;
}

// ---------------------------------------------------------------- CSV

export const CSV_HEADER = ["section", "item", "metric", "unit", "this_week", "previous_week", "note"] as const;

/** A leading =, +, - or @ makes a spreadsheet run a text cell as a formula. */
function safeText(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per figure: `section,item,metric,unit,this_week,previous_week,note` (RFC 4180, CRLF). */
export function renderCsv(r: WeeklyReport): string {
  const rows: (string | number | null)[][] = [];
  const add = (section: string, item: string, metric: string, unit: string, current: number | null, previous: number | null, note = "") =>
    rows.push([section, safeText(item), safeText(metric), unit, current, previous, safeText(note)]);
  const pair = (section: string, item: string, metric: string, unit: string, p: Pair, note = "") => add(section, item, metric, unit, p.current, p.previous, note);

  const t = r.totals;
  pair("totals", "week", "uploads", "files", t.uploads);
  pair("totals", "week", "upload_bytes", "bytes", t.uploadBytes);
  pair("totals", "week", "stored", "files", t.stored);
  pair("totals", "week", "stored_bytes", "bytes", t.storedBytes);
  pair("totals", "week", "unstored", "files", t.unstored);
  pair("totals", "week", "unstored_bytes", "bytes", t.unstoredBytes);
  pair("totals", "week", "removed", "files", t.removed);
  pair("totals", "week", "removed_bytes", "bytes", t.removedBytes);
  pair("storage", "week", "bytes_at_start", "bytes", r.storage.bytesAtStart);
  pair("storage", "week", "bytes_at_end", "bytes", r.storage.bytesAtEnd);
  pair("storage", "week", "growth", "bytes", r.storage.growthBytes);
  pair("storage", "week", "files_at_end", "files", r.storage.filesAtEnd);
  for (const d of r.days) {
    const note = `previous: ${d.previousDate}; ${d.hours} h`;
    pair("days", d.date, "uploads", "files", d.uploads, note);
    pair("days", d.date, "upload_bytes", "bytes", d.uploadBytes, note);
    pair("days", d.date, "stored", "files", d.stored, note);
    pair("days", d.date, "removed", "files", d.removed, note);
    pair("days", d.date, "storage_at_end", "bytes", d.storageBytesAtEnd, note);
  }
  for (const m of r.mimeTypes) {
    pair("mime_types", m.mimeType, "files", "files", m.files);
    pair("mime_types", m.mimeType, "bytes", "bytes", m.bytes);
  }
  for (const f of r.largestFiles) add("largest_files", f.uuid, "size", "bytes", f.size, null, `${f.filename}; ${f.mimeType}; uploaded ${f.uploadedAt}; ${f.state}`);
  pair("expiring", "week", "files", "files", r.expiring.files);
  pair("expiring", "week", "bytes", "bytes", r.expiring.bytes);
  for (const f of r.expiring.list) add("expiring", f.uuid, "size", "bytes", f.size, null, `${f.filename}; expires ${f.expiresAt}`);
  pair("deletions", "week", "files", "files", r.deletions.files);
  pair("deletions", "week", "bytes", "bytes", r.deletions.bytes);
  for (const d of r.deletions.byActor) {
    pair("deletions", d.actor, "files", "files", d.files, `source: ${d.source}`);
    pair("deletions", d.actor, "bytes", "bytes", d.bytes, `source: ${d.source}`);
  }
  if (!r.usage.synced) add("usage", "week", "synced", "", null, null, "not synced");
  for (const m of r.usage.metrics) {
    add("usage", "week", m.metric, m.unit, m.total.current, m.total.previous, m.aggregate === "last" ? "value on the last day" : "sum");
    for (const d of m.days) add("usage", d.date, m.metric, m.unit, d.current, d.previous, `previous: ${d.previousDate}`);
  }
  pair("api_requests", "week", "requests", "requests", r.apiRequests.requests);
  pair("api_requests", "week", "errors", "requests", r.apiRequests.errors);
  for (const s of r.apiRequests.byStatus) pair("api_requests", `status ${s.status}`, "requests", "requests", s.requests, s.error ? "error" : "");
  for (const d of r.apiRequests.days) {
    pair("api_requests", d.date, "requests", "requests", d.requests);
    pair("api_requests", d.date, "errors", "requests", d.errors);
  }
  pair("plans", "week", "files", "files", r.plans.files);
  for (const p of r.plans.byPlan) pair("plans", p.planId, p.kind, "files", p.files);
  pair("sync", "week", "failed_runs", "runs", r.sync.failedRuns);
  pair("sync", "week", "incomplete_runs", "runs", r.sync.incompleteRuns);
  for (const l of r.sync.lanes) {
    pair("sync", `${l.stream}/${l.lane}`, "failed_runs", "runs", l.failedRuns, `last success: ${l.lastSuccessAt ?? "never"}`);
  }
  pair("deliveries", "week", "failed_attempts", "attempts", r.deliveries.failedAttempts);
  pair("deliveries", "week", "deliveries_with_failures", "deliveries", r.deliveries.deliveries);
  pair("deliveries", "week", "gave_up", "deliveries", r.deliveries.gaveUp);

  return [CSV_HEADER as readonly string[], ...rows].map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}
