import { fromEpochMicros, toEpochMicros } from "../../../db/timestamps.ts";
import type { ListPage, UploadcareClient } from "../../uploadcare/client.ts";

/**
 * One part of a listing, by upload time: the files with `from` < upload time
 * (no `from`: from the very start) and upload time < `until` (no `until`: to the
 * end, including files uploaded while the backfill runs). Adjacent slices share
 * a boundary, so every upload time belongs to exactly one slice, runs of equal
 * upload times included: `from` is the boundary less one microsecond, and
 * Uploadcare's `from` is exclusive.
 */
export interface Slice {
  id: string;
  removed: boolean;
  from: string | null;
  until: string | null;
}

/** Pages per slice the split aims at: fewer slices waste less at their ends, more spread the work. */
const PAGES_PER_SLICE = 6;
const MAX_SLICES_PER_LIST = 400;

/**
 * Splits the live list and the `removed=true` list into slices of about equal
 * upload-time width, sized from each list's `totals` (an estimate only: a wrong
 * total changes how many slices there are, never what they cover). Four probe
 * requests: the oldest and newest upload of each list.
 */
export async function planSlices(
  client: UploadcareClient,
  concurrency: number,
  probe: (removed: boolean, newestFirst: boolean) => Promise<ListPage>,
): Promise<Slice[]> {
  const slices: Slice[] = [];
  for (const removed of [false, true]) {
    const oldest = await probe(removed, false);
    const first = uploadTimeOf(oldest.items[0]);
    if (first === null) continue;
    const newest = await probe(removed, true);
    const last = uploadTimeOf(newest.items[0]) ?? first;
    const t = oldest.totals;
    const expected = removed ? (t?.removed ?? 0) : (t?.stored ?? 0) + (t?.unstored ?? 0);
    const pages = Math.max(1, Math.ceil(Math.max(0, expected) / client.pageLimit));
    // At least as many slices as requests may run at once, when the list has that many pages.
    const count = Math.min(MAX_SLICES_PER_LIST, Math.max(1, Math.ceil(pages / PAGES_PER_SLICE), Math.min(pages, concurrency)));
    slices.push(...splitRange(removed, first, last, count));
  }
  return slices;
}

/** `count` slices between two upload times, boundaries on whole microseconds, none empty by construction. */
export function splitRange(removed: boolean, first: bigint, last: bigint, count: number): Slice[] {
  const span = last - first;
  const boundaries: bigint[] = [];
  for (let i = 1; i < count; i++) {
    const b = first + (span * BigInt(i)) / BigInt(count);
    if (b > first && (boundaries.length === 0 || b > boundaries[boundaries.length - 1]!)) boundaries.push(b);
  }
  const list = removed ? "removed" : "live";
  const edges: Array<bigint | null> = [null, ...boundaries, null];
  return edges.slice(0, -1).map((lower, i) => {
    const upper = edges[i + 1]!;
    return {
      id: `${list}-${String(i).padStart(3, "0")}`,
      removed,
      from: lower === null ? null : fromEpochMicros(lower - 1n),
      until: upper === null ? null : fromEpochMicros(upper),
    };
  });
}

/** A listed item's upload time in microseconds, or null when it has none readable. */
export function uploadTimeOf(item: unknown): bigint | null {
  const value = (item as { datetime_uploaded?: unknown } | undefined)?.datetime_uploaded;
  if (typeof value !== "string") return null;
  try {
    return toEpochMicros(value);
  } catch {
    return null;
  }
}
