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

/** Follows `next` from the start; links carry offset 0, so dropping it (as the JS SDK does) must change nothing. */
function forward(seq: ArraySequence, limit: number): { seen: number[]; pages: number[][] } {
  const seen: number[] = [];
  const pages: number[][] = [];
  let req: PageRequest | null = { offset: 0, limit };
  for (let guard = 0; req && guard < 10_000; guard++) {
    const page = paginate(seq, req);
    seen.push(...page.positions);
    pages.push(page.positions);
    req = page.next ? { start: page.next, offset: 0, limit } : null;
  }
  return { seen, pages };
}

describe("paginate", () => {
  it.each([
    [1, 50, 4, 1, 1],
    [2, 200, 6, 0.5, 3],
    [3, 300, 9, 0.8, 7],
    [4, 500, 12, 0.3, 10],
    [5, 64, 3, 1, 2],
    [6, 400, 5, 1, 5],
    [7, 400, 40, 0.6, 8],
    [8, 1000, 9, 0.9, 100],
    [10, 600, 60, 1, 7],
  ])("seed %i: following next visits every match once, in order, in full pages", (seed, n, maxRun, density, limit) => {
    const seq = randomSequence(seed, n, maxRun, density);
    const { seen, pages } = forward(seq, limit);
    expect(seen).toEqual(matching(seq));
    expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
  });

  it("carries the place inside a run in the cursor, never in offset", () => {
    const seq = new ArraySequence([1, 2, 2, 2, 2, 2, 2, 3], [true, true, true, true, true, true, true, true]);
    const first = paginate(seq, { offset: 0, limit: 3 });
    expect(first.positions).toEqual([0, 1, 2]);
    expect(first.next).toEqual({ key: 2, tie: 2 });
    const second = paginate(seq, { start: first.next!, offset: 0, limit: 3 });
    expect(second.positions).toEqual([3, 4, 5]);
    expect(second.next).toEqual({ key: 2, tie: 5 });
    expect(second.previous).toEqual({ key: 2, tie: 2 });
    const third = paginate(seq, { start: second.next!, offset: 0, limit: 3 });
    expect(third.positions).toEqual([6, 7]);
    expect(third.next).toBeNull();
    expect(third.previous).toEqual({ key: 2, tie: 5 });
    expect(paginate(seq, { end: third.previous!, offset: 0, limit: 3 }).positions).toEqual([3, 4, 5]);
  });

  it("ends a run-free boundary with the plain (key, after the run) cursor", () => {
    const seq = new ArraySequence([1, 2, 2, 3, 4], [true, true, true, true, true]);
    expect(paginate(seq, { offset: 0, limit: 3 }).next).toEqual({ key: 2, tie: Infinity });
  });

  it("a run's cursor counts non-matching items, so status changes between pages move nothing", () => {
    const wanted = [true, true, false, true, true, true, true];
    const seq = new ArraySequence([1, 5, 5, 5, 5, 5, 9], wanted);
    const first = paginate(seq, { offset: 0, limit: 3 });
    expect(first.positions).toEqual([0, 1, 3]);
    expect(first.next).toEqual({ key: 5, tie: 3 });
    // Items already served (and the skipped one) stop matching; the rest still follow.
    wanted[1] = false;
    wanted[2] = true;
    wanted[3] = false;
    expect(paginate(seq, { start: first.next!, offset: 0, limit: 3 }).positions).toEqual([4, 5, 6]);
  });

  it("skips offset matches after a start cursor, and clamps a tie beyond its run", () => {
    const seq = new ArraySequence([1, 2, 2, 2, 2, 3, 4], [true, true, true, true, true, true, true]);
    expect(paginate(seq, { start: { key: 2, tie: 1 }, offset: 2, limit: 2 }).positions).toEqual([4, 5]);
    expect(paginate(seq, { start: { key: 2, tie: 0 }, offset: 0, limit: 2 }).positions).toEqual([1, 2]);
    expect(paginate(seq, { start: { key: 2, tie: 99 }, offset: 0, limit: 2 }).positions).toEqual([5, 6]);
    expect(paginate(seq, { start: { key: 1, tie: Infinity }, offset: 3, limit: 2 }).positions).toEqual([4, 5]);
    expect(paginate(seq, { end: { key: 2, tie: 3 }, offset: 1, limit: 2 }).positions).toEqual([1, 2]);
  });

  it.each([
    [9, 300, 6, 0.7, 7],
    [11, 300, 30, 0.9, 7],
  ])("seed %i: walks back with previous links to the first page, each match once", (seed, n, maxRun, density, limit) => {
    const seq = randomSequence(seed, n, maxRun, density);
    let page = paginate(seq, { offset: 0, limit });
    while (page.next) page = paginate(seq, { start: page.next, offset: 0, limit });
    const seen = [...page.positions];
    while (page.previous) {
      page = paginate(seq, { end: page.previous, offset: 0, limit });
      expect(page.positions.length).toBe(limit);
      seen.unshift(...page.positions);
    }
    expect(seen).toEqual(matching(seq));
  });

  it("returns an empty page without links past the end", () => {
    const seq = new ArraySequence([1, 2, 3], [true, true, true]);
    expect(paginate(seq, { start: { key: 3, tie: Infinity }, offset: 0, limit: 10 })).toEqual({ positions: [], next: null, previous: null });
  });
});
