// Cursor pagination the way Uploadcare's next/previous links work, made exact
// for ties.
//
// A sequence is a list of positions whose integer keys (microseconds) never
// decrease; descending listings use negated times. `startAfter` keeps keys
// strictly greater (the `from` of an ascending listing), `endBefore` keeps keys
// strictly smaller (the `to` of a `previous` link), `offset` skips matching
// items after the start (or, with only `endBefore`, before the end).
//
// Links are built so that a client following them verbatim sees every item
// exactly once:
// - when the page's last item is the last one with its key, `next` is
//   (key, offset 0): the recorded Uploadcare form;
// - when a run of equal keys straddles the page end, the page is cut short
//   before that run if the run began inside the page, so the link stays
//   (key, 0) and clients that drop `offset` (the JS SDK does) still see each
//   item once;
// - only a run that fills a whole page needs (key - 1, offset = items of the
//   run already served).
// `previous` links mirror this.

export interface Sequence {
  readonly length: number;
  keyAt(position: number): number;
  matches(position: number): boolean;
}

export interface PageRequest {
  startAfter?: number;
  endBefore?: number;
  offset: number;
  limit: number;
}

export interface PageResult {
  positions: number[];
  next: { startAfter: number; offset: number } | null;
  previous: { endBefore: number; offset: number } | null;
}

/** First position whose key is > key (or >= key when `inclusive`). */
export function searchKey(seq: Sequence, key: number, inclusive: boolean): number {
  let lo = 0;
  let hi = seq.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = seq.keyAt(mid);
    if (inclusive ? k < key : k <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function paginate(seq: Sequence, req: PageRequest): PageResult {
  const n = seq.length;
  const lo = req.startAfter === undefined ? 0 : searchKey(seq, req.startAfter, false);
  const hi = req.endBefore === undefined ? n : searchKey(seq, req.endBefore, true);
  const fromEnd = req.endBefore !== undefined && req.startAfter === undefined;
  const limit = req.limit;
  let page: number[];
  const collected: number[] = [];
  let skip = req.offset;

  if (!fromEnd) {
    for (let p = lo; p < hi && collected.length <= limit; p++) {
      if (!seq.matches(p)) continue;
      if (skip > 0) skip--;
      else collected.push(p);
    }
    page = collected.slice(0, limit);
    if (collected.length > limit) {
      const lastKey = seq.keyAt(page[page.length - 1] as number);
      if (seq.keyAt(collected[limit] as number) === lastKey) {
        const runStart = page.findIndex((p) => seq.keyAt(p) === lastKey);
        if (runStart > 0) page = page.slice(0, runStart);
      }
    }
  } else {
    for (let p = hi - 1; p >= lo && collected.length <= limit; p--) {
      if (!seq.matches(p)) continue;
      if (skip > 0) skip--;
      else collected.push(p);
    }
    page = collected.slice(0, limit).reverse();
    if (collected.length > limit) {
      const firstKey = seq.keyAt(page[0] as number);
      if (seq.keyAt(collected[limit] as number) === firstKey) {
        let runEnd = 0;
        while (runEnd < page.length && seq.keyAt(page[runEnd] as number) === firstKey) runEnd++;
        if (runEnd < page.length) page = page.slice(runEnd);
      }
    }
  }

  if (page.length === 0) return { positions: page, next: null, previous: null };
  return { positions: page, next: nextLink(seq, page[page.length - 1] as number), previous: previousLink(seq, page[0] as number) };
}

function nextLink(seq: Sequence, last: number): PageResult["next"] {
  let q = last + 1;
  while (q < seq.length && !seq.matches(q)) q++;
  if (q >= seq.length) return null;
  const key = seq.keyAt(last);
  if (seq.keyAt(q) !== key) return { startAfter: key, offset: 0 };
  let served = 0;
  for (let p = last; p >= 0 && seq.keyAt(p) === key; p--) if (seq.matches(p)) served++;
  return { startAfter: key - 1, offset: served };
}

function previousLink(seq: Sequence, first: number): PageResult["previous"] {
  let q = first - 1;
  while (q >= 0 && !seq.matches(q)) q--;
  if (q < 0) return null;
  const key = seq.keyAt(first);
  if (seq.keyAt(q) !== key) return { endBefore: key, offset: 0 };
  let later = 0;
  for (let p = first; p < seq.length && seq.keyAt(p) === key; p++) if (seq.matches(p)) later++;
  return { endBefore: key + 1, offset: later };
}
