import { toEpochMicros } from "../../../db/timestamps.ts";
import type { ListCursor, ListPage } from "../../uploadcare/client.ts";
import type { SliceProgress } from "./backfill-state.ts";
import { uploadTimeOf, type Slice } from "./slice-plan.ts";

/** A page of one slice: the items inside the slice, and where the slice goes on after it. */
export interface SliceStep {
  page: ListPage;
  items: unknown[];
  progress: SliceProgress;
}

export type ListRequest = (cursor: ListCursor & { removed: boolean }) => Promise<ListPage>;

/**
 * Pages one slice in upload order from where it stopped, following Uploadcare's
 * own `next` cursors (exact for ties). No lookahead: the other slices' requests
 * overlap this one's writes, and each prefetched page would be memory. Items at or
 * past the slice's `until` belong to the next slice: they are dropped here, and
 * the slice ends with that page. An item without a readable upload time stays
 * with the slice that listed it (the admission sets it aside).
 */
export async function* pageSlice(
  list: ListRequest,
  slice: Slice,
  resumeAt: ListCursor | null,
  signal?: AbortSignal,
): AsyncGenerator<SliceStep> {
  const until = slice.until === null ? null : toEpochMicros(slice.until);
  const start: ListCursor = resumeAt ?? (slice.from ? { from: slice.from } : {});
  let cursor: ListCursor | null = start;
  while (cursor) {
    signal?.throwIfAborted();
    const page: ListPage = await list({ ...cursor, removed: slice.removed });
    const items = until === null ? page.items : page.items.filter((item) => isBefore(item, until));
    const ended = page.next === null || items.length < page.items.length;
    cursor = ended ? null : page.next;
    yield { page, items, progress: { next: cursor, done: ended } };
  }
}

function isBefore(item: unknown, until: bigint): boolean {
  const uploaded = uploadTimeOf(item);
  return uploaded === null || uploaded < until;
}
