// Cursor pagination the way Uploadcare's next/previous links work, made exact
// for ties.
//
// A sequence is a list of positions whose integer keys (microseconds) never
// decrease; descending listings use negated times. A `Cursor` names a gap in
// that list: the one after the first `tie` positions whose key is `key`
// (`tie` 0: just before that run of equal keys; Infinity: just after it).
// `start` keeps what follows its gap (the `from` of an ascending listing),
// `end` keeps what precedes its gap (the `to` of a `previous` link). `offset`
// skips that many matching items after the start (or, with only `end`, before
// the end).
//
// Positions inside a run count every item of the run, matching or not, so a
// cursor stays put when files change status while a client pages (a temporary
// expiring under `stored=false`).
//
// Pages are always full (`limit` matching items unless the list ends), and the
// links alone carry the position, with offset 0, so a client that follows them
// verbatim and one that drops `offset` (the JS SDK) both see every item once:
// - `next` is (key of the page's last item, Infinity) when the next match has
//   another key, the recorded Uploadcare form; otherwise (key, items of the
//   run up to and including the last one), a tie cursor;
// - `previous` mirrors it: (key of the page's first item, 0), or (key, items
//   of the run before the first one).

export interface Sequence {
  readonly length: number;
  keyAt(position: number): number;
  matches(position: number): boolean;
}

export interface Cursor {
  key: number;
  /** Items of the run of `key` before the gap: 0 = before the run, Infinity = after it. */
  tie: number;
}

export interface PageRequest {
  start?: Cursor;
  end?: Cursor;
  offset: number;
  limit: number;
}

export interface PageResult {
  positions: number[];
  next: Cursor | null;
  previous: Cursor | null;
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

/** The position just after a cursor's gap (0..length). */
export function gapOf(seq: Sequence, cursor: Cursor): number {
  const runEnd = searchKey(seq, cursor.key, false);
  if (cursor.tie === Infinity) return runEnd;
  return Math.min(searchKey(seq, cursor.key, true) + cursor.tie, runEnd);
}

export function paginate(seq: Sequence, req: PageRequest): PageResult {
  const lo = req.start === undefined ? 0 : gapOf(seq, req.start);
  const hi = req.end === undefined ? seq.length : gapOf(seq, req.end);
  const fromEnd = req.end !== undefined && req.start === undefined;
  const page: number[] = [];
  let skip = req.offset;

  if (!fromEnd) {
    for (let p = lo; p < hi && page.length < req.limit; p++) {
      if (!seq.matches(p)) continue;
      if (skip > 0) skip--;
      else page.push(p);
    }
  } else {
    for (let p = hi - 1; p >= lo && page.length < req.limit; p--) {
      if (!seq.matches(p)) continue;
      if (skip > 0) skip--;
      else page.push(p);
    }
    page.reverse();
  }

  if (page.length === 0) return { positions: page, next: null, previous: null };
  return { positions: page, next: nextCursor(seq, page[page.length - 1] as number), previous: previousCursor(seq, page[0] as number) };
}

function nextCursor(seq: Sequence, last: number): Cursor | null {
  let q = last + 1;
  while (q < seq.length && !seq.matches(q)) q++;
  if (q >= seq.length) return null;
  const key = seq.keyAt(last);
  if (seq.keyAt(q) !== key) return { key, tie: Infinity };
  return { key, tie: last + 1 - searchKey(seq, key, true) };
}

function previousCursor(seq: Sequence, first: number): Cursor | null {
  let q = first - 1;
  while (q >= 0 && !seq.matches(q)) q--;
  if (q < 0) return null;
  const key = seq.keyAt(first);
  if (seq.keyAt(q) !== key) return { key, tie: 0 };
  return { key, tie: first - searchKey(seq, key, true) };
}
