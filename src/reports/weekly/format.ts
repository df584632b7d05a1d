import type { Pair, WeeklyReport } from "./compute.ts";

/**
 * Number and date formatting shared by the renderers and the charts, so the
 * email, the API, the CSV's units and the charts say the same thing. Bytes use
 * decimal units (1 MB = 1,000,000 bytes), as Uploadcare's billing does.
 */

// One byte convention for the whole product (src/units.ts).
export { byteScale, formatBytes } from "../../units.ts";

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** `+12`, `−3` (a real minus sign), `±0`. */
export function formatSigned(n: number, format: (v: number) => string = formatCount): string {
  if (n === 0) return "±0";
  return `${n > 0 ? "+" : "−"}${format(Math.abs(n))}`;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** `Mon 23 Mar` for a YYYY-MM-DD date (no time zone involved: it is a calendar date). */
export function dayLabel(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** `23–29 Mar 2026` or `30 Mar – 5 Apr 2026`. */
export function weekRangeLabel(report: WeeklyReport): string {
  const first = new Date(`${report.days[0]!.date}T00:00:00Z`);
  const last = new Date(`${report.days[report.days.length - 1]!.date}T00:00:00Z`);
  const month = (d: Date) => MONTHS[d.getUTCMonth()]!;
  if (first.getUTCFullYear() !== last.getUTCFullYear()) {
    return `${first.getUTCDate()} ${month(first)} ${first.getUTCFullYear()} – ${last.getUTCDate()} ${month(last)} ${last.getUTCFullYear()}`;
  }
  if (first.getUTCMonth() !== last.getUTCMonth()) return `${first.getUTCDate()} ${month(first)} – ${last.getUTCDate()} ${month(last)} ${last.getUTCFullYear()}`;
  return `${first.getUTCDate()}–${last.getUTCDate()} ${month(last)} ${last.getUTCFullYear()}`;
}

/** An instant as local time in the report's zone: `2026-03-29 14:05`. */
export function localTime(iso: string | null, timeZone: string): string {
  if (iso === null) return "never";
  const parts: Record<string, string> = {};
  const formatter = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  for (const part of formatter.formatToParts(new Date(iso))) parts[part.type] = part.value;
  return `${parts["year"]}-${parts["month"]}-${parts["day"]} ${parts["hour"]}:${parts["minute"]}`;
}

export function change(pair: Pair): number {
  return pair.current - pair.previous;
}

/** The charts a report has, in order. Names are stable: they are URLs and CIDs. */
export function chartList(report: WeeklyReport): { name: string; title: string }[] {
  const w = report.period.week;
  const charts = [
    { name: "uploads", title: `Uploads per day, ${w}` },
    { name: "storage", title: `Stored bytes at the end of each day, ${w}` },
    { name: "mime-types", title: `Uploaded bytes by MIME type, ${w}` },
    { name: "api-requests", title: `Uploadcare API requests per day, ${w}` },
  ];
  if (report.usage.synced && report.usage.metrics.some((m) => m.metric === "traffic")) {
    charts.push({ name: "traffic", title: `Uploadcare traffic per day, ${w}` });
  }
  return charts;
}
