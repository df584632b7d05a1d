/**
 * Microsecond-exact timestamp strings. Uploadcare sends `2018-11-26T12:49:09.945335Z`,
 * its `next` links `2018-11-27T01:00:43.001705+00:00`, and Postgres (session in UTC)
 * `2018-11-27 01:00:43.0017+00` with trailing zeros trimmed. A JS Date keeps only
 * milliseconds, so comparisons and cursors go through these helpers instead.
 */

const PATTERN = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`: what Uploadcare sends and the canonical form.
 * A sync reads a dozen timestamps per file, so this shape is checked with
 * character arithmetic instead of the general pattern (same answers, see
 * test/db/timestamps.test.ts).
 */
function canonicalParts(value: string): { ms: number; micros: number } | null {
  if (value.length !== 27 || value.charCodeAt(26) !== 90 /* Z */) return null;
  for (let i = 0; i < SEPARATORS.length; i += 2) if (value.charCodeAt(SEPARATORS[i]!) !== SEPARATORS[i + 1]) return null;
  for (let i = 0; i < DIGITS.length; i++) {
    const digit = value.charCodeAt(DIGITS[i]!) - 48;
    if (digit < 0 || digit > 9) return null;
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  // Date.UTC maps years 0–99 to 1900–1999: those take the general path.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  return { ms: Date.UTC(year, month - 1, day, hour, minute, second), micros: digitsAt(value, 20, 6) };
}

/** Positions and character codes of `-`, `-`, `T`, `:`, `:` and `.` in the canonical form. */
const SEPARATORS = [4, 45, 7, 45, 10, 84, 13, 58, 16, 58, 19, 46];
const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25];
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digitsAt(value: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) n = n * 10 + (value.charCodeAt(i) - 48);
  return n;
}

function daysIn(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : MONTH_DAYS[month - 1]!;
}

/** Microseconds since the epoch, exact. Throws on anything that is not a timestamp. */
export function toEpochMicros(value: string): bigint {
  const fast = canonicalParts(value);
  if (fast) return BigInt(fast.ms) * 1000n + BigInt(fast.micros);
  const match = PATTERN.exec(value.trim());
  if (!match) throw new RangeError(`not a timestamp: ${JSON.stringify(value)}`);
  const [, day, time, fraction = "", zone = "Z"] = match;
  // JavaScript rolls 2026-02-30 over to March 2nd; PostgreSQL refuses it. Refuse
  // it here too, so an impossible date is a validation error, never a database one.
  if (!isCalendarDay(day!) || !isClockTime(time!)) throw new RangeError(`not a valid date and time: ${JSON.stringify(value)}`);
  const seconds = Date.parse(`${day}T${time}${normalizeZone(zone)}`);
  if (Number.isNaN(seconds)) throw new RangeError(`not a timestamp: ${JSON.stringify(value)}`);
  const micros = BigInt((fraction + "000000").slice(0, 6));
  return BigInt(seconds) * 1000n + micros;
}

/** `YYYY-MM-DD` naming a day that exists (year 1 or later: PostgreSQL has no year 0). */
export function isCalendarDay(day: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return false;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || date < 1) return false;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0);
  return date <= daysInMonth;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** `HH:MM:SS` within one day (no leap seconds: PostgreSQL stores none). */
function isClockTime(time: string): boolean {
  const [h, m, s] = time.split(":").map(Number);
  return h! <= 23 && m! <= 59 && s! <= 59;
}

function normalizeZone(zone: string): string {
  if (zone.toUpperCase() === "Z") return "Z";
  const sign = zone[0];
  const digits = zone.slice(1).replace(":", "");
  return `${sign}${digits.slice(0, 2)}:${(digits.slice(2) || "00").padEnd(2, "0")}`;
}

/** The canonical form: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fraction digits. */
export function fromEpochMicros(micros: bigint): string {
  const millis = micros / 1000n;
  const rest = micros % 1000n;
  const base = new Date(Number(millis)).toISOString(); // …SS.mmmZ
  return `${base.slice(0, 23)}${rest.toString().padStart(3, "0")}Z`;
}

/** Any accepted timestamp string in canonical form. */
export function canonicalTimestamp(value: string): string {
  // Already canonical (and a real date and time): as it is.
  if (canonicalParts(value)) return value;
  return fromEpochMicros(toEpochMicros(value));
}

/** Null-tolerant canonical form. */
export function canonicalTimestampOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : canonicalTimestamp(value);
}

/** A JS Date in canonical form (its sub-millisecond part is zero). */
export function dateToTimestamp(date: Date): string {
  return fromEpochMicros(BigInt(date.getTime()) * 1000n);
}

/** The later of two canonical timestamps (canonical strings sort chronologically). */
export function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
