import type { Pair, WeeklyReport } from "./compute.ts";
import { formatBytes, formatCount, localTime } from "./format.ts";
import type { Table } from "./report-tables.ts";
import type { OrphanRows } from "./rows.ts";

/** The orphans section: pure, from the rows (see orphans-query.ts), and its table for every rendering. */

export interface OrphansSection {
  /** False: no reference source, so nothing is known to be unreferenced. */
  configured: boolean;
  /** When the figures were read (not the week's end: reference states keep no history). */
  asOf: string | null;
  files: number;
  bytes: number;
  unreferenced30Days: { files: number; bytes: number };
  unreferenced90Days: { files: number; bytes: number };
  newThisWeek: { files: number; bytes: number };
  heldByStaleSources: number;
  sources: { source: string; kind: string; refs: number; lastReportedAt: string | null; stale: boolean; staleAfterHours: number; snapshots: Pair; refused: Pair }[];
}

export function computeOrphans(rows: OrphanRows | null | undefined): OrphansSection {
  if (!rows) {
    return {
      configured: false,
      asOf: null,
      files: 0,
      bytes: 0,
      unreferenced30Days: { files: 0, bytes: 0 },
      unreferenced90Days: { files: 0, bytes: 0 },
      newThisWeek: { files: 0, bytes: 0 },
      heldByStaleSources: 0,
      sources: [],
    };
  }
  const pair = (p: { count: number; bytes: number }) => ({ files: p.count, bytes: p.bytes });
  return {
    configured: true,
    asOf: rows.asOf,
    files: rows.orphans.count,
    bytes: rows.orphans.bytes,
    unreferenced30Days: pair(rows.over30Days),
    unreferenced90Days: pair(rows.over90Days),
    newThisWeek: pair(rows.newThisWeek),
    heldByStaleSources: rows.heldByStale,
    sources: [...rows.sources]
      .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
      .map((s) => ({
        source: s.source,
        kind: s.kind,
        refs: s.refs,
        lastReportedAt: s.lastReportedAt,
        stale: s.stale,
        staleAfterHours: s.staleAfterHours,
        snapshots: { ...s.applied },
        refused: { ...s.refused },
      })),
  };
}

/** One sentence for the top of the section. */
export function orphansSummary(r: WeeklyReport): string {
  const o = r.orphans;
  if (!o.configured) return "No reference source is configured, so no file is known to be unreferenced. See docs/references.md to push or pull your application's references.";
  const stale = o.sources.filter((s) => s.stale).map((s) => s.source);
  return (
    `As of ${localTime(o.asOf, r.period.timezone)}, ${formatCount(o.files)} live file(s), ${formatBytes(o.bytes)}, are referenced by no source: ` +
    `${formatCount(o.unreferenced30Days.files)} (${formatBytes(o.unreferenced30Days.bytes)}) for 30 days or more, ${formatCount(o.unreferenced90Days.files)} (${formatBytes(o.unreferenced90Days.bytes)}) for 90 days or more; ` +
    `${formatCount(o.newThisWeek.files)} (${formatBytes(o.newThisWeek.bytes)}) became unreferenced this week.` +
    (stale.length
      ? ` Stale source(s): ${stale.join(", ")}. While a source is stale no file becomes an orphan through its silence (${formatCount(o.heldByStaleSources)} file(s) held).`
      : "")
  );
}

export function orphansTable(r: WeeklyReport): Table {
  const tz = r.period.timezone;
  return {
    headers: ["Source", "Kind", "References", "Last reported", "Status", "Snapshots this week", "Refused this week"],
    numeric: [2, 5, 6],
    rows: r.orphans.sources.map((s) => [
      s.source,
      s.kind,
      formatCount(s.refs),
      localTime(s.lastReportedAt, tz),
      s.stale ? { text: `stale (expected every ${s.staleAfterHours} h)`, color: "#b42318" } : "reporting",
      formatCount(s.snapshots.current),
      { text: formatCount(s.refused.current), color: s.refused.current > 0 ? "#b42318" : "#222" },
    ]),
  };
}
