import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/db/audit/canonical-json.ts";

/** The form every stored hash covers: keys sorted on a prototype-less copy, then JSON.stringify. */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
      const out = Object.create(null) as Record<string, unknown>;
      for (const key of Object.keys(v).sort()) {
        const inner = (v as Record<string, unknown>)[key];
        if (inner !== undefined) out[key] = sortKeys(inner);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

describe("canonicalJson", () => {
  it("writes exactly what the hashes already in ledgers cover", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ["a", "B", "é", "__proto__", "z9", "", "\u0000", "\ud83d\ude00", "\ud800", "10", "2", "01", "-1", "4294967294", "4294967295", "9007199254740993"];
    const make = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) {
        const leaves = [null, true, false, 0, -1.5, 1e21, NaN, "x\"\\\n", "\ud800 lone", "😀", undefined];
        return leaves[Math.floor(random() * leaves.length)];
      }
      if (r < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      const object = JSON.parse("{}") as Record<string, unknown>;
      for (let i = Math.floor(random() * 5); i > 0; i--) Object.defineProperty(object, keys[Math.floor(random() * keys.length)]!, { value: make(depth + 1), enumerable: true, configurable: true, writable: true });
      return object;
    };
    for (let i = 0; i < 3_000; i++) {
      const value = make(0);
      expect(canonicalJson(value)).toBe(reference(value));
    }
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":[1,{"d":2,"c":3}]},"a":null}'))).toBe('{"__proto__":{"x":[1,{"c":3,"d":2}]},"a":null,"b":1}');
  });
});
