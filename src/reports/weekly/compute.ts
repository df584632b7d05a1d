import type { ReportDay, WeekPeriod } from "./period.ts";
import type { FileItem, Week, WeeklyRows } from "./rows.ts";
import { computeOrphans, type OrphansSection } from "./orphans.ts";
import { computeAnchors, type AnchorsSection } from "./anchors.ts";
import type { Anchor } from "../../db/audit/anchors.ts";

/**
 * Pure assembly of the weekly report: rows and periods in, report out. No I/O,
 * no clock; the same input gives the same report, key order included.
 */

/** A figure for the report's week and the week before it. */
export interface Pair {
  current: number;
  previous: number;
}

export interface DayFigures {
  date: string;
  /** The same weekday of the previous week. */
  previousDate: string;
  /** 23 or 25 on the day of a DST change. */
  hours: number;
  uploads: Pair;
  uploadBytes: Pair;
  stored: Pair;
  storedBytes: Pair;
  removed: Pair;
  removedBytes: Pair;
  /** Bytes of stored files at the end of the day. */
  storageBytesAtEnd: Pair;
}

export interface UsageMetric {
  metric: string;
  unit: string;
  /** `sum` for flows (traffic, operations), `last` for levels (storage). */
  aggregate: "sum" | "last";
  days: { date: string; previousDate: string; current: number | null; previous: number | null }[];
  /** Null for a week with no figures. */
  total: { current: number | null; previous: number | null };
}

export interface WeeklyReport {
  kind: "weekly";
  version: 1;
  project: { key: string; name: string };
  period: {
    week: string;
    timezone: string;
    start: string;
    end: string;
    hours: number;
    previousWeek: string;
    previousStart: string;
    previousEnd: string;
  };
  /** When the ledger was read; figures are as the ledger knew them then. */
  generatedAt: string;
  days: DayFigures[];
  totals: {
    uploads: Pair;
    uploadBytes: Pair;
    stored: Pair;
    storedBytes: Pair;
    unstored: Pair;
    unstoredBytes: Pair;
    removed: Pair;
    removedBytes: Pair;
  };
  /**
   * Files stored and not removed, at the week's start and end: from store times kept
   * after deletion, so a week's figures stay as they were once it has ended.
   */
  storage: { bytesAtStart: Pair; bytesAtEnd: Pair; growthBytes: Pair; filesAtStart: Pair; filesAtEnd: Pair; growthFiles: Pair };
  mimeTypes: { mimeType: string; files: Pair; bytes: Pair }[];
  largestFiles: (FileItem & { state: FileState })[];
  expiring: { files: Pair; bytes: Pair; list: (FileItem & { expiresAt: string })[] };
  deletions: { files: Pair; bytes: Pair; byActor: { actor: string; source: string; files: Pair; bytes: Pair }[] };
  usage: { synced: boolean; metrics: UsageMetric[] };
  apiRequests: { requests: Pair; errors: Pair; byStatus: { status: string; error: boolean; requests: Pair }[]; days: { date: string; requests: Pair; errors: Pair }[] };
  plans: { files: Pair; byPlan: { planId: string; kind: string; files: Pair }[]; bytesSaved: Pair; savings: { planId: string; bytesSaved: Pair }[] };
  sync: {
    failedRuns: Pair;
    incompleteRuns: Pair;
    lanes: { stream: string; lane: string; lastSuccessAt: string | null; previousLastSuccessAt: string | null; failedRuns: Pair; incompleteRuns: Pair }[];
  };
  deliveries: { failedAttempts: Pair; deliveries: Pair; gaveUp: Pair };
  /** Files no reference source points at (docs/references.md). */
  orphans: OrphansSection;
  /** The project's newest signed audit anchors when the report was written: a copy outside the database. */
  anchors: AnchorsSection;
}

export type FileState = "stored" | "unstored" | "removed";

/** MIME types listed by name; the rest are summed as `other`. */
export const MIME_TYPES_SHOWN = 8;
const UNSTORED_TTL_MS = 24 * 60 * 60 * 1000;
/** Levels are reported as the week's last value; everything else is summed. */
const LEVEL_METRICS = new Set(["storage"]);
const USAGE_ORDER = ["traffic", "storage", "operations"];

const zero = (): Pair => ({ current: 0, previous: 0 });

function inRange(at: string, start: string, end: string): boolean {
  const t = Date.parse(at);
  return t >= Date.parse(start) && t < Date.parse(end);
}

function sumIn<T extends { at: string }>(rows: T[], day: Pick<ReportDay, "start" | "end">, value: (row: T) => number): number {
  let total = 0;
  for (const row of rows) if (inRange(row.at, day.start, day.end)) total += value(row);
  return total;
}

function sumBefore<T extends { at: string }>(rows: T[], end: string, value: (row: T) => number): number {
  const limit = Date.parse(end);
  let total = 0;
  for (const row of rows) if (Date.parse(row.at) < limit) total += value(row);
  return total;
}

function pairOf<T extends { week: Week }>(rows: T[], value: (row: T) => number): Pair {
  const pair = zero();
  for (const row of rows) pair[row.week] += value(row);
  return pair;
}

const byPairDesc = (a: Pair, b: Pair) => b.current - a.current || b.previous - a.previous;

export interface ComputeInput {
  rows: WeeklyRows;
  current: WeekPeriod;
  previous: WeekPeriod;
  generatedAt: string;
  /** The project's newest anchors, newest first; none when no signing key is configured. */
  anchors?: Anchor[];
}

export function computeWeeklyReport({ rows, current, previous, generatedAt, anchors }: ComputeInput): WeeklyReport {
  const storageAt = (end: string) =>
    rows.storedAtStart.bytes + sumBefore(rows.stores, end, (r) => r.bytes) - sumBefore(rows.removals, end, (r) => r.storedBytes);
  const storedFilesAt = (end: string) =>
    rows.storedAtStart.count + sumBefore(rows.stores, end, (r) => r.count) - sumBefore(rows.removals, end, (r) => r.storedCount);

  const days: DayFigures[] = current.days.map((day, i) => {
    const prev = previous.days[i]!;
    const both = <T extends { at: string }>(series: T[], value: (row: T) => number): Pair => ({
      current: sumIn(series, day, value),
      previous: sumIn(series, prev, value),
    });
    return {
      date: day.date,
      previousDate: prev.date,
      hours: day.hours,
      uploads: both(rows.uploads, (r) => r.count),
      uploadBytes: both(rows.uploads, (r) => r.bytes),
      stored: both(rows.stores, (r) => r.count),
      storedBytes: both(rows.stores, (r) => r.bytes),
      removed: both(rows.removals, (r) => r.count),
      removedBytes: both(rows.removals, (r) => r.bytes),
      storageBytesAtEnd: { current: storageAt(day.end), previous: storageAt(prev.end) },
    };
  });

  const weekTotal = (pick: (d: DayFigures) => Pair): Pair =>
    days.reduce((acc, d) => ({ current: acc.current + pick(d).current, previous: acc.previous + pick(d).previous }), zero());
  const weekSum = <T extends { at: string }>(series: T[], value: (row: T) => number): Pair => ({
    current: sumIn(series, current, value),
    previous: sumIn(series, previous, value),
  });

  return {
    kind: "weekly",
    version: 1,
    project: { ...rows.project },
    period: {
      week: current.week,
      timezone: current.timezone,
      start: current.start,
      end: current.end,
      hours: current.days.reduce((h, d) => h + d.hours, 0),
      previousWeek: previous.week,
      previousStart: previous.start,
      previousEnd: previous.end,
    },
    generatedAt,
    days,
    totals: {
      uploads: weekTotal((d) => d.uploads),
      uploadBytes: weekTotal((d) => d.uploadBytes),
      stored: weekTotal((d) => d.stored),
      storedBytes: weekTotal((d) => d.storedBytes),
      unstored: weekSum(rows.uploads, (r) => r.unstoredCount),
      unstoredBytes: weekSum(rows.uploads, (r) => r.unstoredBytes),
      removed: weekTotal((d) => d.removed),
      removedBytes: weekTotal((d) => d.removedBytes),
    },
    storage: {
      bytesAtStart: { current: storageAt(current.start), previous: storageAt(previous.start) },
      bytesAtEnd: { current: storageAt(current.end), previous: storageAt(previous.end) },
      growthBytes: {
        current: storageAt(current.end) - storageAt(current.start),
        previous: storageAt(previous.end) - storageAt(previous.start),
      },
      filesAtStart: { current: storedFilesAt(current.start), previous: storedFilesAt(previous.start) },
      filesAtEnd: { current: storedFilesAt(current.end), previous: storedFilesAt(previous.end) },
      growthFiles: {
        current: storedFilesAt(current.end) - storedFilesAt(current.start),
        previous: storedFilesAt(previous.end) - storedFilesAt(previous.start),
      },
    },
    mimeTypes: mimeTypes(rows),
    largestFiles: rows.largestFiles.map((f) => ({ ...f, state: stateOf(f, current.end) })),
    expiring: {
      files: pairOf(rows.expiring, (r) => r.count),
      bytes: pairOf(rows.expiring, (r) => r.bytes),
      list: rows.expiringFiles.map((f) => ({ ...f, expiresAt: new Date(Date.parse(f.uploadedAt) + UNSTORED_TTL_MS).toISOString() })),
    },
    deletions: deletions(rows),
    usage: usage(rows, current, previous),
    apiRequests: apiRequests(rows, current, previous),
    plans: plans(rows),
    sync: syncHealth(rows),
    deliveries: {
      failedAttempts: pairOf(rows.deliveryFailures, (r) => r.failedAttempts),
      deliveries: pairOf(rows.deliveryFailures, (r) => r.deliveries),
      gaveUp: pairOf(rows.deliveryFailures, (r) => r.gaveUp),
    },
    orphans: computeOrphans(rows.orphans),
    anchors: computeAnchors(anchors),
  };
}

/** A file's state when the week ended, as far as the ledger knows. */
function stateOf(file: FileItem, end: string): FileState {
  if (file.removedAt !== null && Date.parse(file.removedAt) < Date.parse(end)) return "removed";
  if (file.storedAt !== null && Date.parse(file.storedAt) < Date.parse(end)) return "stored";
  return "unstored";
}

function mimeTypes(rows: WeeklyRows): WeeklyReport["mimeTypes"] {
  const byType = new Map<string, { files: Pair; bytes: Pair }>();
  for (const row of rows.mimeTypes) {
    const entry = byType.get(row.mimeType) ?? { files: zero(), bytes: zero() };
    entry.files[row.week] += row.count;
    entry.bytes[row.week] += row.bytes;
    byType.set(row.mimeType, entry);
  }
  const ranked = [...byType.entries()]
    .map(([mimeType, v]) => ({ mimeType, ...v }))
    .sort((a, b) => byPairDesc(a.bytes, b.bytes) || byPairDesc(a.files, b.files) || (a.mimeType < b.mimeType ? -1 : 1));
  if (ranked.length <= MIME_TYPES_SHOWN) return ranked;
  const shown = ranked.slice(0, MIME_TYPES_SHOWN - 1);
  const other = { mimeType: "other", files: zero(), bytes: zero() };
  for (const r of ranked.slice(MIME_TYPES_SHOWN - 1)) {
    for (const week of ["current", "previous"] as const) {
      other.files[week] += r.files[week];
      other.bytes[week] += r.bytes[week];
    }
  }
  return [...shown, other];
}

function deletions(rows: WeeklyRows): WeeklyReport["deletions"] {
  const byActor = new Map<string, { actor: string; source: string; files: Pair; bytes: Pair }>();
  for (const row of rows.deletions) {
    const key = `${row.actor}\u0000${row.source}`;
    const entry = byActor.get(key) ?? { actor: row.actor, source: row.source, files: zero(), bytes: zero() };
    entry.files[row.week] += row.count;
    entry.bytes[row.week] += row.bytes;
    byActor.set(key, entry);
  }
  return {
    files: pairOf(rows.deletions, (r) => r.count),
    bytes: pairOf(rows.deletions, (r) => r.bytes),
    byActor: [...byActor.values()].sort(
      (a, b) => byPairDesc(a.files, b.files) || (a.actor < b.actor ? -1 : a.actor > b.actor ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
    ),
  };
}

function usage(rows: WeeklyRows, current: WeekPeriod, previous: WeekPeriod): WeeklyReport["usage"] {
  const currentDates = new Set(current.days.map((d) => d.date));
  const synced = rows.usage.some((r) => currentDates.has(r.date));
  const names = [...new Set(rows.usage.map((r) => r.metric))].sort(
    (a, b) => (USAGE_ORDER.indexOf(a) + 1 || 99) - (USAGE_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1),
  );
  const metrics = names.map((metric): UsageMetric => {
    const values = new Map(rows.usage.filter((r) => r.metric === metric).map((r) => [r.date, r]));
    const aggregate = LEVEL_METRICS.has(metric) ? "last" : "sum";
    const days = current.days.map((day, i) => ({
      date: day.date,
      previousDate: previous.days[i]!.date,
      current: values.get(day.date)?.value ?? null,
      previous: values.get(previous.days[i]!.date)?.value ?? null,
    }));
    const fold = (list: (number | null)[]) => {
      const known = list.filter((v): v is number => v !== null);
      if (known.length === 0) return null;
      return aggregate === "sum" ? known.reduce((a, b) => a + b, 0) : known[known.length - 1]!;
    };
    const unit = [...values.values()][0]?.unit ?? "";
    return { metric, unit, aggregate, days, total: { current: fold(days.map((d) => d.current)), previous: fold(days.map((d) => d.previous)) } };
  });
  return { synced, metrics };
}

function apiRequests(rows: WeeklyRows, current: WeekPeriod, previous: WeekPeriod): WeeklyReport["apiRequests"] {
  const byStatus = new Map<string, { status: string; error: boolean; requests: Pair }>();
  for (const row of rows.requestsByStatus) {
    const status = row.status === null ? "none" : String(row.status);
    const entry = byStatus.get(status) ?? { status, error: row.status === null || row.status >= 400, requests: zero() };
    entry.requests[row.week] += row.count;
    byStatus.set(status, entry);
  }
  const days = current.days.map((day, i) => {
    const prev = previous.days[i]!;
    return {
      date: day.date,
      requests: { current: sumIn(rows.requests, day, (r) => r.count), previous: sumIn(rows.requests, prev, (r) => r.count) },
      errors: { current: sumIn(rows.requests, day, (r) => r.errors), previous: sumIn(rows.requests, prev, (r) => r.errors) },
    };
  });
  const statuses = [...byStatus.values()].sort((a, b) => (a.status === "none" ? 1 : b.status === "none" ? -1 : Number(a.status) - Number(b.status)));
  const total = (pick: (s: (typeof statuses)[number]) => boolean): Pair =>
    statuses.filter(pick).reduce((acc, s) => ({ current: acc.current + s.requests.current, previous: acc.previous + s.requests.previous }), zero());
  return { requests: total(() => true), errors: total((s) => s.error), byStatus: statuses, days };
}

function plans(rows: WeeklyRows): WeeklyReport["plans"] {
  const byPlan = new Map<string, { planId: string; kind: string; files: Pair }>();
  for (const row of rows.plans) {
    const key = `${row.planId}\u0000${row.kind}`;
    const entry = byPlan.get(key) ?? { planId: row.planId, kind: row.kind, files: zero() };
    entry.files[row.week] += row.files;
    byPlan.set(key, entry);
  }
  const savings = new Map<string, Pair>();
  for (const row of rows.planSavings ?? []) {
    const pair = savings.get(row.planId) ?? zero();
    pair[row.week] += row.bytes;
    savings.set(row.planId, pair);
  }
  return {
    bytesSaved: pairOf(rows.planSavings ?? [], (r) => r.bytes),
    savings: [...savings].map(([planId, bytesSaved]) => ({ planId, bytesSaved })).sort((a, b) => byPairDesc(a.bytesSaved, b.bytesSaved) || (a.planId < b.planId ? -1 : 1)),
    files: pairOf(rows.plans, (r) => r.files),
    byPlan: [...byPlan.values()].sort(
      (a, b) => byPairDesc(a.files, b.files) || (a.planId < b.planId ? -1 : a.planId > b.planId ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0),
    ),
  };
}

function syncHealth(rows: WeeklyRows): WeeklyReport["sync"] {
  const lanes = rows.syncLanes
    .map((l) => ({
      stream: l.stream,
      lane: l.lane,
      lastSuccessAt: l.lastSuccessAt,
      previousLastSuccessAt: l.previousLastSuccessAt,
      failedRuns: { ...l.failed },
      incompleteRuns: { ...l.incomplete },
    }))
    .sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.lane < b.lane ? -1 : a.lane > b.lane ? 1 : 0));
  const sum = (pick: (l: (typeof lanes)[number]) => Pair) =>
    lanes.reduce((acc, l) => ({ current: acc.current + pick(l).current, previous: acc.previous + pick(l).previous }), zero());
  return { failedRuns: sum((l) => l.failedRuns), incompleteRuns: sum((l) => l.incompleteRuns), lanes };
}

/** An empty set of rows, for a project with nothing in the ledger yet. */
export function emptyRows(project: { key: string; name: string }): WeeklyRows {
  return {
    project,
    uploads: [],
    stores: [],
    removals: [],
    storedAtStart: { count: 0, bytes: 0 },
    mimeTypes: [],
    largestFiles: [],
    expiring: [],
    expiringFiles: [],
    deletions: [],
    usage: [],
    requests: [],
    requestsByStatus: [],
    plans: [],
    syncLanes: [],
    deliveryFailures: [],
  };
}
