import { describe, expect, it } from "vitest";
import { paginate, type PageRequest, type Sequence } from "../../src/sandbox/paginate.ts";
import { Prng } from "../../src/sandbox/prng.ts";

class ArraySequence implements Sequence {
  constructor(
    readonly keys: number[],
    readonly wanted: boolean[],
  ) {}
  get length() {
    return this.keys.length;
  }
  keyAt(p: number) {
    return this.keys[p] as number;
  }
  matches(p: number) {
    return this.wanted[p] as boolean;
  }
}

/** Sorted keys with runs of equal values, and a random filter. */
function randomSequence(seed: number, n: number, maxRun: number, density: number): ArraySequence {
  const rng = new Prng(seed);
  const keys: number[] = [];
  let key = 1_000;
  while (keys.length < n) {
    key += rng.int(1, 3);
    const run = rng.chance(0.3) ? rng.int(2, maxRun) : 1;
    for (let k = 0; k < run && keys.length < n; k++) keys.push(key);
  }
  return new ArraySequence(keys, keys.map(() => rng.chance(density)));
}

function matching(seq: ArraySequence): number[] {
  return seq.keys.flatMap((_k, p) => (seq.wanted[p] ? [p] : []));
}

/** Follows `next` from the start; `dropOffset` imitates the JS SDK, which loses it. */
function forward(seq: ArraySequence, limit: number, dropOffset: boolean): number[] {
  const seen: number[] = [];
  let req: PageRequest | null = { offset: 0, limit };
  for (let guard = 0; req && guard < 10_000; guard++) {
    const page = paginate(seq, req);
    seen.push(...page.positions);
    req = page.next ? { startAfter: page.next.startAfter, offset: dropOffset ? 0 : page.next.offset, limit } : null;
  }
  return seen;
}

describe("paginate", () => {
  it.each([
    [1, 50, 4, 1, 1],
    [2, 200, 6, 0.5, 3],
    [3, 300, 9, 0.8, 7],
    [4, 500, 12, 0.3, 10],
    [5, 64, 3, 1, 2],
  ])("seed %i: following next verbatim visits every match once, in order", (seed, n, maxRun, density, limit) => {
    const seq = randomSequence(seed, n, maxRun, density);
    expect(forward(seq, limit, false)).toEqual(matching(seq));
  });

  it.each([
    [6, 400, 5, 1, 5],
    [7, 400, 5, 0.6, 8],
    [8, 1000, 9, 0.9, 100],
  ])("seed %i: a client that drops offset still sees each match once while runs fit in a page", (seed, n, maxRun, density, limit) => {
    const seq = randomSequence(seed, n, maxRun, density);
    expect(forward(seq, limit, true)).toEqual(matching(seq));
  });

  it("uses offset only for a run that fills a whole page", () => {
    const seq = new ArraySequence([1, 2, 2, 2, 2, 2, 3], [true, true, true, true, true, true, true]);
    const first = paginate(seq, { offset: 0, limit: 3 });
    // Cut short before the run, so the link stays (key, 0).
    expect(first.positions).toEqual([0]);
    expect(first.next).toEqual({ startAfter: 1, offset: 0 });
    const second = paginate(seq, { startAfter: 1, offset: 0, limit: 3 });
    expect(second.positions).toEqual([1, 2, 3]);
    expect(second.next).toEqual({ startAfter: 1, offset: 3 });
    const third = paginate(seq, { startAfter: 1, offset: 3, limit: 3 });
    expect(third.positions).toEqual([4, 5, 6]);
    expect(third.next).toBeNull();
  });

  it("walks back with previous links to the first page, each match once", () => {
    const seq = randomSequence(9, 300, 6, 0.7);
    const limit = 7;
    let page = paginate(seq, { offset: 0, limit });
    while (page.next) page = paginate(seq, { startAfter: page.next.startAfter, offset: page.next.offset, limit });
    const seen = [...page.positions];
    while (page.previous) {
      page = paginate(seq, { endBefore: page.previous.endBefore, offset: page.previous.offset, limit });
      seen.unshift(...page.positions);
    }
    expect(seen).toEqual(matching(seq));
  });

  it("returns an empty page without links past the end", () => {
    const seq = new ArraySequence([1, 2, 3], [true, true, true]);
    expect(paginate(seq, { startAfter: 3, offset: 0, limit: 10 })).toEqual({ positions: [], next: null, previous: null });
  });
});
