// Uploadcare timestamps carry microseconds ("2018-11-26T12:49:09.945335Z"),
// which a JS Date cannot hold. The sandbox keeps every instant as an integer
// number of microseconds since the epoch in a float64 (exact up to 2^53).

export const US_PER_MS = 1_000;
export const US_PER_S = 1_000_000;
export const US_PER_DAY = 86_400_000_000;

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

const PAD2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

/** Year, month (1–12) and day of a day number (Howard Hinnant's civil_from_days). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/**
 * "2018-11-26T12:49:09.945335Z" (file fields) or "...945335+00:00"
 * (next/previous links). Formatted by hand: a 1000-file page needs ~3000 of
 * these, and going through Date costs several times more.
 */
export function isoMicros(us: number, suffix: "Z" | "+00:00" = "Z"): string {
  const days = Math.floor(us / US_PER_DAY);
  const inDay = us - days * US_PER_DAY;
  const seconds = Math.floor(inDay / US_PER_S);
  const micros = inDay - seconds * US_PER_S;
  const [y, m, d] = civilFromDays(days);
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  const frac = micros < 100_000 ? String(micros).padStart(6, "0") : String(micros);
  return `${y}-${PAD2[m]}-${PAD2[d]}T${PAD2[hh]}:${PAD2[mm]}:${PAD2[ss]}.${frac}${suffix}`;
}

/** "YYYY-MM-DD" of the UTC day holding `us`. */
export function isoDay(us: number): string {
  return new Date(Math.floor(us / US_PER_MS)).toISOString().slice(0, 10);
}

/** Whole UTC days since the epoch. */
export function dayNumber(us: number): number {
  return Math.floor(us / US_PER_DAY);
}

/** "YYYY-MM-DD" for a day number. */
export function dayToIso(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** Strict "YYYY-MM-DD" → day number, or null. */
export function parseIsoDay(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (dayToIso(ms / 86_400_000) !== text) return null;
  return ms / 86_400_000;
}

/**
 * Lenient ISO 8601 → microseconds. Accepts a date alone, `T` or a space,
 * 0–9 fractional digits (truncated to microseconds), `Z`, `±HH:MM`, `±HHMM`
 * or no zone (UTC). A "+00:00" whose "+" was decoded to a space by a client
 * that did not percent-encode it ("...001705 00:00") is read as "+00:00".
 */
export function parseIsoMicros(text: string): number | null {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2}| \d{2}:?\d{2})?$/.exec(
      text.trim(),
    );
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const month = Number(mo) - 1;
  const base = Date.UTC(Number(y), month, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(base);
  if (check.getUTCMonth() !== month || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return null;
  }
  let offsetMin = 0;
  if (zone !== "Z" && zone !== "z") {
    const z = /^([+\- ])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z) return null;
    offsetMin = (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  const micros = Number((frac + "000000").slice(0, 6));
  return (base - offsetMin * 60_000) * US_PER_MS + micros;
}

/** A `from`/`to` value of a listing: an instant and, optionally, a place inside a run of equal times. */
export interface IsoCursor {
  us: number;
  /** Files uploaded at exactly `us` that lie before the cursor (in listing order), or null for a plain time. */
  tie: number | null;
}

/** Digits after the sixth fractional one that may carry a tie position (up to 999,999,999 files). */
const TIE_DIGITS_MAX = 9;

/**
 * A listing's `from`/`to`: `parseIsoMicros`, except that fractional digits
 * after the sixth, when not all zero, are read as a tie position rather than
 * truncated: "2026-05-26T20:37:36.092024007+00:00" is "after the 7th file
 * uploaded at .092024". The sandbox's own next/previous links write them (see
 * README, Pagination); a microsecond reader drops them.
 */
export function parseIsoCursor(text: string): IsoCursor | null {
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d{6})(\d+)(.*)$/s.exec(text.trim());
  if (!m) {
    const us = parseIsoMicros(text);
    return us === null ? null : { us, tie: null };
  }
  const [, head = "", digits = "", zone = ""] = m;
  if (digits.length > TIE_DIGITS_MAX) return null;
  const us = parseIsoMicros(head + zone);
  if (us === null) return null;
  const tie = Number(digits);
  return { us, tie: tie === 0 ? null : tie };
}

/** A tie cursor for a link: microsecond "+00:00" time with the tie position (≥ 1) as extra digits, at least three. */
export function isoTieCursor(us: number, tie: number): string {
  return `${isoMicros(us, "Z").slice(0, -1)}${String(tie).padStart(3, "0")}+00:00`;
}

/**
 * Lenient HTTP date → milliseconds: RFC 2822 "Mon, 05 Nov 2018 13:14:41 GMT",
 * pyuploadcare's "Mon, 05 Nov 2018, 13:14:41 GMT" (extra comma), numeric zones,
 * and as a last resort anything Date.parse understands.
 */
export function parseHttpDate(text: string): number | null {
  const cleaned = text.replace(/,/g, " ").replace(/\s+/g, " ").trim();
  const m = /^(?:[A-Za-z]{3,9} )?(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))? ?(GMT|UTC|UT|Z|[+-]\d{4})?$/i.exec(cleaned);
  if (m) {
    const month = MONTHS[(m[2] as string).toLowerCase()];
    if (month === undefined) return null;
    let ms = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
    const zone = m[7];
    if (zone && /^[+-]\d{4}$/.test(zone)) {
      const sign = zone.startsWith("-") ? -1 : 1;
      ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
    }
    return ms;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}
