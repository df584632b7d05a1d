import { describe, expect, it } from "vitest";
import { isoMicros, isoTieCursor, parseHttpDate, parseIsoCursor, parseIsoDay, parseIsoMicros } from "../../src/sandbox/time.ts";

describe("sandbox time helpers", () => {
  it.each([
    ["2018-11-27T01:00:43.001705+00:00", "2018-11-27T01:00:43.001705Z"],
    ["2018-11-27T01:00:43.001705Z", "2018-11-27T01:00:43.001705Z"],
    ["2018-11-27T01:00:43.001Z", "2018-11-27T01:00:43.001000Z"],
    ["2018-11-27T01:00:43Z", "2018-11-27T01:00:43.000000Z"],
    ["2018-11-27T01:00:43", "2018-11-27T01:00:43.000000Z"],
    ["2018-11-27", "2018-11-27T00:00:00.000000Z"],
    ["2018-11-27T03:00:43.5+02:00", "2018-11-27T01:00:43.500000Z"],
    ["2018-11-27T01:00:43.001705 00:00", "2018-11-27T01:00:43.001705Z"],
    ["2018-11-27T01:00:43.0017059Z", "2018-11-27T01:00:43.001705Z"],
  ])("parses %s", (input, expected) => {
    expect(isoMicros(parseIsoMicros(input) as number)).toBe(expected);
  });

  it.each(["yesterday", "2018-13-01T00:00:00Z", "2018-02-30", "2018-11-27T25:00:00Z", ""])("rejects %s", (input) => {
    expect(parseIsoMicros(input)).toBeNull();
  });

  it.each([
    ["2018-11-27T01:00:43.001705+00:00", 1543280443001705, null],
    ["2018-11-27T01:00:43Z", 1543280443000000, null],
    ["2018-11-27T01:00:43.001705007+00:00", 1543280443001705, 7],
    ["2018-11-27T01:00:43.001705007 00:00", 1543280443001705, 7],
    ["2018-11-27T03:00:43.001705012+02:00", 1543280443001705, 12],
    ["2018-11-27T01:00:43.0017051234Z", 1543280443001705, 1234],
    ["2018-11-27T01:00:43.001705000Z", 1543280443001705, null],
  ])("reads the listing cursor %s", (input, us, tie) => {
    expect(parseIsoCursor(input)).toEqual({ us, tie });
  });

  it("rejects a listing cursor with more than 15 fractional digits or a bad date", () => {
    expect(parseIsoCursor("2018-11-27T01:00:43.0017051234567890Z")).toBeNull();
    expect(parseIsoCursor("2018-02-30T01:00:43.001705007Z")).toBeNull();
    expect(parseIsoCursor("yesterday")).toBeNull();
  });

  it("writes tie cursors with at least three extra digits, and reads them back", () => {
    expect(isoTieCursor(1543280443001705, 7)).toBe("2018-11-27T01:00:43.001705007+00:00");
    expect(isoTieCursor(1543280443001705, 1234)).toBe("2018-11-27T01:00:43.0017051234+00:00");
    expect(parseIsoCursor(isoTieCursor(1543280443000000, 999))).toEqual({ us: 1543280443000000, tie: 999 });
  });

  it("formats link timestamps with +00:00", () => {
    expect(isoMicros(1543280443001705, "+00:00")).toBe("2018-11-27T01:00:43.001705+00:00");
  });

  it.each([
    ["Mon, 05 Nov 2018 13:14:41 GMT", Date.UTC(2018, 10, 5, 13, 14, 41)],
    ["Mon, 05 Nov 2018, 13:14:41 GMT", Date.UTC(2018, 10, 5, 13, 14, 41)],
    ["5 Nov 2018 15:14:41 +0200", Date.UTC(2018, 10, 5, 13, 14, 41)],
  ])("parses the HTTP date %s", (input, expected) => {
    expect(parseHttpDate(input)).toBe(expected);
  });

  it("reads strict YYYY-MM-DD days only", () => {
    expect(parseIsoDay("2025-01-31")).toBe(Date.UTC(2025, 0, 31) / 86_400_000);
    expect(parseIsoDay("2025-02-31")).toBeNull();
    expect(parseIsoDay("2025-1-3")).toBeNull();
  });
});

describe("isoMicros", () => {
  it("matches Date for times across leap years and centuries", () => {
    let x = 7;
    for (let k = 0; k < 2000; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const ms = Date.UTC(1970, 0, 1) + Math.floor((x / 2 ** 32) * 4.1e12);
      const micros = (x % 1000) * 1;
      const us = ms * 1000 + micros;
      expect(isoMicros(us)).toBe(`${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, "0")}Z`);
    }
    expect(isoMicros(Date.UTC(2000, 1, 29, 23, 59, 59) * 1000 + 999_999)).toBe("2000-02-29T23:59:59.999999Z");
  });
});
