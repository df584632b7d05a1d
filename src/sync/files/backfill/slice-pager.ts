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
 * own `next` cursors (exact for ties), with one page of lookahead. Items at or
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
  let pending: Promise<ListPage> | null = list({ ...start, removed: slice.removed });
  while (pending) {
    const page: ListPage = await pending;
    signal?.throwIfAborted();
    const items = until === null ? page.items : page.items.filter((item) => isBefore(item, until));
    const ended = page.next === null || items.length < page.items.length;
    pending = ended ? null : list({ ...page.next!, removed: slice.removed });
    // The caller may stop early (a failed write): the prefetch's failure is then nobody's.
    pending?.catch(() => {});
    yield { page, items, progress: { next: ended ? null : page.next, done: ended } };
  }
}

function isBefore(item: unknown, until: bigint): boolean {
  const uploaded = uploadTimeOf(item);
  return uploaded === null || uploaded < until;
}
