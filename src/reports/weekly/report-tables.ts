import type { Pair, WeeklyReport } from "./compute.ts";
import { change, dayLabel, formatBytes, formatCount, formatSigned, localTime } from "./format.ts";

/** The report's figures as tables, shared by the HTML, text and CSV renderings. */
export type Cell = string | { text: string; align?: "left" | "right"; bold?: boolean; color?: string };

export interface Table {
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

export function summaryTable(r: WeeklyReport): Table {
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
      ["Stored at the start of the week", ...pairCells(r.storage.bytesAtStart, bytes)],
      ["Stored at the end of the week", ...pairCells(r.storage.bytesAtEnd, bytes)],
      ["Storage growth", ...pairCells(r.storage.growthBytes, bytes, true)],
      ["Stored files at the start of the week", ...pairCells(r.storage.filesAtStart)],
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

/**
 * What the figures that look alike count, for a note beside them: the ledger's
 * storage and Uploadcare's, files removed and deletions in the audit trail.
 */
export function figureNotes(r: WeeklyReport): { storage: string; removals: string; usageStorage: string | null } {
  const usageStorage = r.usage.metrics.some((m) => m.metric === "storage")
    ? `Uploadcare's usage figure "storage" is Uploadcare's own daily measurement, by the day as Uploadcare dates it rather than at this report's midnights in ${r.period.timezone}, and may count what the ledger does not (temporary uploads, for instance): it need not agree with the ledger's storage figures.`
    : null;
  return {
    storage:
      "Storage (stored at the start and end of the week, growth, stored files) is the ledger's own count: files stored and not yet removed at that moment, " +
      "from the store and removal times the ledger has seen. A deleted file keeps its store time, so a week's figures stay as they were once it has ended.",
    removals:
      '"Files removed" counts every file whose removal time, as Uploadcare gives it, falls in the week, whatever removed it, temporary uploads Uploadcare drops 24 hours after upload included; ' +
      "only the removals of stored files lower the storage figures. " +
      '"Deletions in the audit trail" counts the removals the ledger recorded as events in the week, with who made them, dated by Uploadcare\'s removal time (or when the ledger saw it, if that is unknown); ' +
      "a file the ledger first saw already removed has no such event.",
    usageStorage,
  };
}

export function chartTable(r: WeeklyReport, name: string): Table {
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

export function usageTable(r: WeeklyReport): Table {
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

export function largestTable(r: WeeklyReport): Table {
  return {
    headers: ["File", "Type", "Size", "Uploaded", "State at week's end", "UUID"],
    numeric: [2],
    rows: r.largestFiles.map((f) => [f.filename, f.mimeType, formatBytes(f.size), localTime(f.uploadedAt, r.period.timezone), f.state, f.uuid]),
  };
}

export function expiringTable(r: WeeklyReport): Table {
  return {
    headers: ["File", "Size", "Uploaded", "Expires", "UUID"],
    numeric: [1],
    rows: r.expiring.list.map((f) => [f.filename, formatBytes(f.size), localTime(f.uploadedAt, r.period.timezone), localTime(f.expiresAt, r.period.timezone), f.uuid]),
  };
}

export function deletionsTable(r: WeeklyReport): Table {
  return {
    headers: ["Who", "Source", "Files", "Bytes", "Files, previous week"],
    numeric: [2, 3, 4],
    rows: r.deletions.byActor.map((d) => [d.actor, d.source, formatCount(d.files.current), formatBytes(d.bytes.current), formatCount(d.files.previous)]),
  };
}

export function statusTable(r: WeeklyReport): Table {
  return {
    headers: ["HTTP status", "This week", "Previous week", "Change"],
    numeric: [1, 2, 3],
    rows: r.apiRequests.byStatus.map((s) => [{ text: s.status === "none" ? "no answer" : s.status, color: s.error ? "#b42318" : "#222" }, ...pairCells(s.requests)]),
  };
}

export function plansTable(r: WeeklyReport): Table {
  return {
    headers: ["Plan", "Event kind", "Files this week", "Files previous week"],
    numeric: [2, 3],
    rows: [
      ...r.plans.byPlan.map((p) => [p.planId, p.kind, formatCount(p.files.current), formatCount(p.files.previous)]),
      // Version plans that delete originals: what the originals took beyond their copies.
      ...(r.plans.savings ?? []).map((p) => [p.planId, "bytes saved", formatBytes(p.bytesSaved.current), formatBytes(p.bytesSaved.previous)]),
    ],
  };
}

export function syncTable(r: WeeklyReport): Table {
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

export function deliveriesTable(r: WeeklyReport): Table {
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
