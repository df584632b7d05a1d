import { describe, expect, it } from "vitest";
import { canonicalTimestamp, fromEpochMicros, toEpochMicros } from "../../src/db/timestamps.ts";

/** The general path's answer, for comparison: through an offset form the fast path never takes. */
const viaOffset = (value: string) => toEpochMicros(value.replace(/Z$/, "+00:00"));

describe("timestamps", () => {
  it("read canonical strings exactly as the general parser does, across years, months and leap days", () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5_000; i++) {
      const micros = BigInt(Math.floor(random() * 2 ** 53)) % 253_402_300_799_000_000n; // up to 9999-12-31
      const text = fromEpochMicros(micros);
      if (!/^\d{4}-/.test(text)) continue;
      expect(toEpochMicros(text)).toBe(micros);
      expect(viaOffset(text)).toBe(micros);
      expect(canonicalTimestamp(text)).toBe(text);
    }
    for (const leap of ["2024-02-29T00:00:00.000000Z", "2000-02-29T23:59:59.999999Z", "0100-03-01T00:00:00.000001Z"]) {
      expect(toEpochMicros(leap)).toBe(viaOffset(leap));
    }
  });

  it("refuse impossible dates and times in the canonical shape too", () => {
    for (const bad of [
      "2026-02-30T10:00:00.000000Z",
      "2025-02-29T10:00:00.000000Z",
      "1900-02-29T10:00:00.000000Z",
      "2026-13-01T10:00:00.000000Z",
      "2026-00-10T10:00:00.000000Z",
      "2026-04-31T10:00:00.000000Z",
      "2026-01-01T24:00:00.000000Z",
      "2026-01-01T23:60:00.000000Z",
      "2026-01-01T23:59:60.000000Z",
      "0000-01-01T00:00:00.000000Z",
      "2026-01-0aT00:00:00.000000Z",
    ]) {
      expect(() => toEpochMicros(bad), bad).toThrow(RangeError);
      expect(() => canonicalTimestamp(bad), bad).toThrow(RangeError);
    }
  });

  it("keep years before 100 exact (Date.UTC would move them to the 1900s)", () => {
    expect(canonicalTimestamp("0050-06-01T12:00:00.000000Z")).toBe("0050-06-01T12:00:00.000000Z");
    expect(fromEpochMicros(toEpochMicros("0050-06-01T12:00:00.5Z"))).toBe("0050-06-01T12:00:00.500000Z");
  });
});
