import { describe, expect, it } from "vitest";
import { AdaptiveLimit, mapAdaptive } from "../../src/decisions/adaptive-limit.ts";
import { filterConditions } from "../../src/decisions/filter-conditions.ts";

describe("the adaptive write limit", () => {
  it("never runs more at once than the limit, halves it after a retry and grows it back by 1/limit per success", async () => {
    let clock = 0;
    const bounded = new AdaptiveLimit({ initial: 3, max: 3 });
    let inFlight = 0;
    let peak = 0;
    await mapAdaptive(Array.from({ length: 200 }, (_, i) => i), bounded, async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      bounded.succeeded();
    });
    expect(peak).toBe(3);

    const limit = new AdaptiveLimit({ initial: 8, max: 16, coolDownMs: 1_000, now: () => clock });

    limit.throttled();
    expect(limit.current).toBe(4);
    limit.throttled(); // the same burst of 429s: within the cool-down, no second halving
    expect(limit.current).toBe(4);
    clock += 1_500;
    limit.throttled();
    expect(limit.current).toBe(2);
    for (let i = 0; i < 3; i++) limit.succeeded();
    expect(limit.current).toBe(3);
    for (let i = 0; i < 500; i++) limit.succeeded();
    expect(limit.current).toBe(16);
    expect(limit.decreases).toBe(2);
  });
});

describe("a files list filter as policy conditions", () => {
  const now = new Date("2026-03-10T00:00:00Z");
  it("says each filter field as a condition", () => {
    expect(filterConditions({ state: "stored", filename: "cat", mime: "image/*", metadata: "a=b", from: "2026-03-01", to: "2026-03-09", sizeMin: "10" }, now)).toEqual([
      { kind: "state", in: ["stored"] },
      { kind: "filename", pattern: "*cat*", caseSensitive: false },
      { kind: "mime", types: ["image/*"] },
      { kind: "metadata", key: "a", op: "equals", value: "b" },
      { kind: "age", olderThanHours: 24, newerThanHours: 216 },
      { kind: "size", minBytes: 10 },
    ]);
  });
  it("refuses what a policy cannot say, naming it", () => {
    expect(() => filterConditions({ referenced: "true" }, now)).toThrow(/referenced: /);
    expect(() => filterConditions({ metadata: "novalue" }, now)).toThrow(/metadata: must be key=value/);
    expect(() => filterConditions({ filename: "a*b" }, now)).toThrow(/filename: /);
  });
});
