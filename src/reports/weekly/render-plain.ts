import type { Pair, WeeklyReport } from "./compute.ts";
import { chartList, formatBytes, formatCount, localTime, weekRangeLabel } from "./format.ts";
import { chartTable, deletionsTable, deliveriesTable, expiringTable, figureNotes, largestTable, plansTable, statusTable, summaryTable, syncTable, type Table, usageTable } from "./report-tables.ts";
import { orphansSummary, orphansTable } from "./orphans.ts";
import { anchorsLines, anchorsSummary, NO_ANCHORS } from "./anchors.ts";
import type { RenderOptions } from "./render.ts";
import { costsCsvRows, costsOf, costsSummary, costsUsageTable } from "./costs-section.ts";

/** The report as plain text (the email's text part) and as CSV. */
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

/** Prose at most 78 characters a line, broken between words. */
function wrap(text: string, width = 78): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** The costs section (docs/costs.md); reports stored before it existed have none. */
function costsBlock(r: WeeklyReport, block: (title: string, body: string) => string): string[] {
  const costs = costsOf(r);
  if (!costs) return [];
  const table = costsUsageTable(costs);
  return [block("Costs", `${costsSummary(costs).map((line) => wrap(line)).join("\n")}${table ? `\n\n${textTable(table)}` : ""}`)];
}

export function renderText(r: WeeklyReport, options: RenderOptions): string {
  const charts = new Map(chartList(r).map((c) => [c.name, c.title]));
  const block = (title: string, body: string) => `${title}\n${"-".repeat(title.length)}\n${body}\n`;
  const notes = figureNotes(r);
  const usageNote = notes.usageStorage ? `\n\n${wrap(notes.usageStorage)}` : "";
  const parts = [
    `Weekly report ${r.period.week}: ${r.project.name} (${r.project.key})`,
    `${weekRangeLabel(r)}, Monday to Sunday in ${r.period.timezone}, beside ${r.period.previousWeek}.${r.period.hours !== 168 ? ` The week had ${r.period.hours} hours.` : ""}`,
    `Figures as the ledger knew them at ${localTime(r.generatedAt, r.period.timezone)}.`,
    `Open in ucledger: ${options.reportUrl}`,
    "",
    block("Summary", `${textTable(summaryTable(r))}\n\n${wrap(notes.storage)}\n\n${wrap(notes.removals)}`),
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
    block("Uploadcare usage", r.usage.synced ? `${textTable(usageTable(r))}${usageNote}` : "Not synced: there are no usage figures for this week."),
    ...costsBlock(r, block),
    block(charts.get("api-requests")!, `${textTable(chartTable(r, "api-requests"))}${r.apiRequests.byStatus.length ? `\n\n${textTable(statusTable(r))}` : ""}`),
    block("Plans applied", r.plans.byPlan.length ? textTable(plansTable(r)) : "No plans were applied in either week."),
    block("Sync health", r.sync.lanes.length ? textTable(syncTable(r)) : "No sync runs recorded."),
    block("Report deliveries", textTable(deliveriesTable(r))),
    block("Orphans (files nothing references)", `${orphansSummary(r)}${r.orphans.sources.length ? `\n${textTable(orphansTable(r))}` : ""}`),
    // JSON lines, not a table: a hash or signature cut to fit a column could not be checked.
    block("Signed audit anchors", `${wrap(anchorsSummary(r))}${r.anchors.latest.length ? `\n\n${anchorsLines(r)}` : ""}`),
    "Sizes in decimal units (1 MB = 1,000,000 bytes). Written by ucledger; its delivery record says whether and when it was sent.",
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
  pair("storage", "week", "files_at_start", "files", r.storage.filesAtStart);
  pair("storage", "week", "growth_files", "files", r.storage.growthFiles);
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
  for (const row of costsCsvRows(costsOf(r))) add(...row);
  pair("api_requests", "week", "requests", "requests", r.apiRequests.requests);
  pair("api_requests", "week", "errors", "requests", r.apiRequests.errors);
  for (const s of r.apiRequests.byStatus) pair("api_requests", `status ${s.status}`, "requests", "requests", s.requests, s.error ? "error" : "");
  for (const d of r.apiRequests.days) {
    pair("api_requests", d.date, "requests", "requests", d.requests);
    pair("api_requests", d.date, "errors", "requests", d.errors);
  }
  pair("plans", "week", "files", "files", r.plans.files);
  for (const p of r.plans.byPlan) pair("plans", p.planId, p.kind, "files", p.files);
  for (const p of r.plans.savings ?? []) pair("plans", p.planId, "bytes_saved", "bytes", p.bytesSaved);
  pair("sync", "week", "failed_runs", "runs", r.sync.failedRuns);
  pair("sync", "week", "incomplete_runs", "runs", r.sync.incompleteRuns);
  for (const l of r.sync.lanes) {
    pair("sync", `${l.stream}/${l.lane}`, "failed_runs", "runs", l.failedRuns, `last success: ${l.lastSuccessAt ?? "never"}`);
  }
  pair("deliveries", "week", "failed_attempts", "attempts", r.deliveries.failedAttempts);
  pair("deliveries", "week", "deliveries_with_failures", "deliveries", r.deliveries.deliveries);
  pair("deliveries", "week", "gave_up", "deliveries", r.deliveries.gaveUp);
  const o = r.orphans;
  if (!o.configured) add("orphans", "now", "configured", "", null, null, "no reference source configured");
  else {
    const asOf = `as of ${o.asOf}`;
    add("orphans", "now", "files", "files", o.files, null, asOf);
    add("orphans", "now", "bytes", "bytes", o.bytes, null, asOf);
    add("orphans", "30_days_or_more", "files", "files", o.unreferenced30Days.files, null, asOf);
    add("orphans", "30_days_or_more", "bytes", "bytes", o.unreferenced30Days.bytes, null, asOf);
    add("orphans", "90_days_or_more", "files", "files", o.unreferenced90Days.files, null, asOf);
    add("orphans", "90_days_or_more", "bytes", "bytes", o.unreferenced90Days.bytes, null, asOf);
    add("orphans", "new_this_week", "files", "files", o.newThisWeek.files, null, asOf);
    add("orphans", "new_this_week", "bytes", "bytes", o.newThisWeek.bytes, null, asOf);
    add("orphans", "held_by_stale_sources", "files", "files", o.heldByStaleSources, null, asOf);
    for (const src of o.sources) {
      const note = `${src.kind}; last reported ${src.lastReportedAt ?? "never"}${src.stale ? "; stale" : ""}`;
      add("orphans", `source ${src.source}`, "references", "references", src.refs, null, note);
      pair("orphans", `source ${src.source}`, "snapshots", "snapshots", src.snapshots, note);
      pair("orphans", `source ${src.source}`, "refused", "snapshots", src.refused, note);
    }
  }

  if (r.anchors.latest.length === 0) add("anchors", "latest", "signed", "", null, null, NO_ANCHORS);
  for (const a of r.anchors.latest) {
    add("anchors", `event ${a.seq}`, "seq", "event", a.seq, null, `hash ${a.hash}; taken ${a.takenAt}; key ${a.keyId}; signature ${a.signature}`);
  }

  return [CSV_HEADER as readonly string[], ...rows].map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}
