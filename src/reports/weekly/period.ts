import { ValidationError } from "../../errors.ts";

/**
 * ISO weeks in an IANA time zone, as half-open `[start, end)` instants. A day
 * starts at local midnight, so the week of a DST change has a 23- or 25-hour
 * day and is 167 or 169 hours long. Pure: no clock, no I/O.
 */

export interface ReportDay {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  /** ISO UTC instants of the local day's first moment and of the next day's. */
  start: string;
  end: string;
  hours: number;
}

export interface WeekPeriod {
  /** `2026-W13`. */
  week: string;
  timezone: string;
  start: string;
  end: string;
  days: ReportDay[];
}

const MS_PER_DAY = 86_400_000;
const WEEK_PATTERN = /^(\d{4})-W(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      throw new ValidationError(`timezone: '${timeZone}' is not an IANA time zone`);
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The local wall-clock time at `instantMs`, as milliseconds of a UTC clock showing the same digits. */
function wallClockMs(instantMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts["year"]!, parts["month"]! - 1, parts["day"]!, parts["hour"]!, parts["minute"]!, parts["second"]!);
  return wall + (((instantMs % 1000) + 1000) % 1000);
}

function offsetMs(instantMs: number, timeZone: string): number {
  return wallClockMs(instantMs, timeZone) - instantMs;
}

/** The local calendar date of an instant. */
export function localDate(instant: Date, timeZone: string): string {
  return new Date(wallClockMs(instant.getTime(), timeZone)).toISOString().slice(0, 10);
}

/**
 * The first instant of a local date. Where midnight happens twice (clocks set
 * back at midnight) the earlier one; where it does not happen (clocks set
 * forward over midnight) the moment the day begins, right after the gap.
 */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const wall = Date.parse(`${date}T00:00:00Z`);
  // The offsets a day before and a day after bracket any transition near midnight.
  const before = offsetMs(wall - MS_PER_DAY, timeZone);
  const after = offsetMs(wall + MS_PER_DAY, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => wallClockMs(t, timeZone) === wall).sort((a, b) => a - b);
  if (candidates.length > 0) return new Date(candidates[0]!);
  // In a gap: the day starts at the transition, the first instant whose offset is the new one.
  let low = wall - after;
  let high = wall - before;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (offsetMs(mid, timeZone) === after) high = mid;
    else low = mid;
  }
  return new Date(high);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Monday of ISO week 1: the week holding 4 January. */
function mondayOfWeekOne(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return jan4 - weekday * MS_PER_DAY;
}

function weeksInYear(year: number): number {
  return Math.round((mondayOfWeekOne(year + 1) - mondayOfWeekOne(year)) / (7 * MS_PER_DAY));
}

/** The ISO week a calendar date belongs to. */
export function isoWeekOf(date: string): string {
  const day = Date.parse(`${date}T00:00:00Z`);
  const year = Number(date.slice(0, 4));
  for (const candidate of [year + 1, year, year - 1]) {
    const start = mondayOfWeekOne(candidate);
    if (day >= start) {
      const week = Math.floor((day - start) / (7 * MS_PER_DAY)) + 1;
      return `${candidate}-W${String(week).padStart(2, "0")}`;
    }
  }
  throw new RangeError(`no ISO week for ${date}`);
}

/** Checks `2026-W13` (the week must exist in that year); throws ValidationError naming `week`. */
export function parseIsoWeek(text: string): { year: number; week: number } {
  const match = WEEK_PATTERN.exec(text);
  const year = Number(match?.[1]);
  const week = Number(match?.[2]);
  if (!match || year < 1970 || year > 9998 || week < 1 || week > weeksInYear(year)) {
    throw new ValidationError(`week: '${text}' is not an ISO week such as 2026-W13`);
  }
  return { year, week };
}

/** The Monday of an ISO week, YYYY-MM-DD. */
export function mondayOf(week: string): string {
  const { year, week: n } = parseIsoWeek(week);
  return new Date(mondayOfWeekOne(year) + (n - 1) * 7 * MS_PER_DAY).toISOString().slice(0, 10);
}

export function shiftWeek(week: string, weeks: number): string {
  return isoWeekOf(addDays(mondayOf(week), weeks * 7));
}

/** The last week that has fully ended at `now` in the time zone. */
export function previousCompleteWeek(now: Date, timeZone: string): string {
  return shiftWeek(isoWeekOf(localDate(now, timeZone)), -1);
}

/** The week's seven local days and its bounds. */
export function weekPeriod(week: string, timeZone: string): WeekPeriod {
  const monday = mondayOf(week);
  const starts = Array.from({ length: 8 }, (_, i) => startOfLocalDay(addDays(monday, i), timeZone));
  const days = Array.from({ length: 7 }, (_, i) => ({
    date: addDays(monday, i),
    start: starts[i]!.toISOString(),
    end: starts[i + 1]!.toISOString(),
    hours: (starts[i + 1]!.getTime() - starts[i]!.getTime()) / 3_600_000,
  }));
  return { week, timezone: timeZone, start: days[0]!.start, end: days[6]!.end, days };
}

/**
 * The week a page shows when asked for `asked` (`2026-W47`): that week when it
 * exists (`W53` only in long years) and has begun, else the last complete week
 * (a running week draws its future days as zero).
 */
export function weekToShow(asked: string, now: Date, timeZone: string): string {
  const current = isoWeekOf(localDate(now, timeZone));
  if (/^\d{4}-W\d{2}$/.test(asked) && asked <= current) {
    try {
      weekPeriod(asked, timeZone);
      return asked;
    } catch {
      // Not a week of that year: the default below.
    }
  }
  return previousCompleteWeek(now, timeZone);
}
