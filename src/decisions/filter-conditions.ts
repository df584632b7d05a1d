import { ValidationError } from "../errors.ts";
import type { Condition } from "./conditions.ts";

/**
 * The files list's filter (the dashboard's own query: state, filename, mime,
 * metadata `k=v`, appdata key, from/to dates, sizeMin/sizeMax, referenced,
 * unreferencedForDays) as policy conditions, so a bulk action on "the files
 * of this filter" becomes a policy and a plan like any other, with the same
 * review. Upload dates become ages at `now` (the proposal follows at once).
 * A filter a policy cannot say is refused naming it, never widened.
 */
export function filterConditions(filter: Record<string, string | undefined>, now: Date): Condition[] {
  const out: Condition[] = [];
  const value = (k: string) => filter[k]?.trim() || undefined;
  const state = value("state");
  if (state) {
    if (state !== "stored" && state !== "unstored" && state !== "removed") throw new ValidationError(`state: ${JSON.stringify(state)} is not stored, unstored or removed`);
    out.push({ kind: "state", in: [state] });
  }
  const filename = value("filename");
  if (filename) {
    if (/[*?]/.test(filename)) throw new ValidationError("filename: a bulk action cannot use * or ? in the file name filter");
    out.push({ kind: "filename", pattern: `*${filename}*`, caseSensitive: false });
  }
  const mime = value("mime");
  if (mime) out.push({ kind: "mime", types: [mime] });
  const metadata = value("metadata");
  if (metadata) {
    const at = metadata.indexOf("=");
    if (at <= 0) throw new ValidationError("metadata: must be key=value");
    out.push({ kind: "metadata", key: metadata.slice(0, at), op: "equals", value: metadata.slice(at + 1) });
  }
  const appdata = value("appdata");
  if (appdata) out.push({ kind: "appdata", path: appdata, op: "exists" });
  const hoursBefore = (day: string, name: string) => {
    const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day}T00:00:00Z` : day);
    if (Number.isNaN(at)) throw new ValidationError(`${name}: must be a date (YYYY-MM-DD)`);
    return Math.max(0, (now.getTime() - at) / 3_600_000);
  };
  const from = value("from");
  const to = value("to");
  if (from || to) {
    out.push({
      kind: "age",
      ...(to ? { olderThanHours: hoursBefore(to, "to") } : {}),
      ...(from ? { newerThanHours: hoursBefore(from, "from") } : {}),
    } as Condition);
  }
  const sizeMin = value("sizeMin");
  const sizeMax = value("sizeMax");
  if (sizeMin || sizeMax) {
    const bytes = (v: string, name: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new ValidationError(`${name}: must be a whole number of bytes`);
      return n;
    };
    out.push({ kind: "size", ...(sizeMin ? { minBytes: bytes(sizeMin, "sizeMin") } : {}), ...(sizeMax ? { maxBytes: bytes(sizeMax, "sizeMax") } : {}) } as Condition);
  }
  const days = value("unreferencedForDays");
  const referenced = value("referenced");
  if (referenced === "true") throw new ValidationError("referenced: a bulk action cannot select referenced files; filter by other fields");
  if (days || referenced === "false") {
    const n = Number(days ?? "0");
    if (!Number.isFinite(n) || n < 0) throw new ValidationError("unreferencedForDays: must be a number of days");
    out.push({ kind: "unreferenced", forAtLeastDays: n } as Condition);
  }
  if (value("missing") === "true") throw new ValidationError("missing: plans leave out files Uploadcare no longer lists");
  return out;
}
