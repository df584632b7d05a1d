import { describe, expect, it } from "vitest";
import {
  isoWeekOf,
  mondayOf,
  parseIsoWeek,
  previousCompleteWeek,
  shiftWeek,
  startOfLocalDay,
  weekPeriod,
} from "../../src/reports/weekly/period.ts";

describe("ISO weeks in a time zone", () => {
  it("gives the spring-forward week in Berlin 167 hours, with a 23-hour Sunday", () => {
    const p = weekPeriod("2026-W13", "Europe/Berlin");
    expect(p.start).toBe("2026-03-22T23:00:00.000Z"); // Monday 00:00 CET
    expect(p.end).toBe("2026-03-29T22:00:00.000Z"); // next Monday 00:00 CEST
    expect(p.days.map((d) => d.date)).toEqual(["2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27", "2026-03-28", "2026-03-29"]);
    expect(p.days.map((d) => d.hours)).toEqual([24, 24, 24, 24, 24, 24, 23]);
    expect(p.days[6]).toEqual({ date: "2026-03-29", start: "2026-03-28T23:00:00.000Z", end: "2026-03-29T22:00:00.000Z", hours: 23 });
  });

  it("gives the fall-back week in Berlin 169 hours, with a 25-hour Sunday", () => {
    const p = weekPeriod("2026-W43", "Europe/Berlin");
    expect(p.start).toBe("2026-10-18T22:00:00.000Z");
    expect(p.end).toBe("2026-10-25T23:00:00.000Z");
    expect(p.days.map((d) => d.hours)).toEqual([24, 24, 24, 24, 24, 24, 25]);
  });

  it("chains weeks without a gap or an overlap across the change", () => {
    const w12 = weekPeriod("2026-W12", "Europe/Berlin");
    const w13 = weekPeriod("2026-W13", "Europe/Berlin");
    const w14 = weekPeriod("2026-W14", "Europe/Berlin");
    expect(w12.end).toBe(w13.start);
    expect(w13.end).toBe(w14.start);
    for (const p of [w12, w13, w14]) for (let i = 1; i < 7; i++) expect(p.days[i]!.start).toBe(p.days[i - 1]!.end);
  });

  it.each([
    ["UTC", "2026-03-23", "2026-03-23T00:00:00.000Z"],
    ["Asia/Kolkata", "2026-03-23", "2026-03-22T18:30:00.000Z"],
    ["Asia/Kathmandu", "2026-03-23", "2026-03-22T18:15:00.000Z"],
    ["America/New_York", "2026-03-08", "2026-03-08T05:00:00.000Z"],
    // Chile sets clocks forward at midnight: 00:00 does not exist, the day starts at 01:00 -03.
    ["America/Santiago", "2022-09-11", "2022-09-11T04:00:00.000Z"],
    // …and back at midnight: the earlier of the two local midnights.
    ["America/Santiago", "2022-04-03", "2022-04-03T04:00:00.000Z"],
  ])("starts %s's day %s at %s", (zone, date, expected) => {
    expect(startOfLocalDay(date, zone).toISOString()).toBe(expected);
  });

  it.each([
    ["2026-03-23", "2026-W13"],
    ["2026-03-29", "2026-W13"],
    ["2021-01-03", "2020-W53"],
    ["2021-01-04", "2021-W01"],
    ["2024-12-30", "2025-W01"],
    ["2026-12-31", "2026-W53"],
  ])("puts %s in %s", (date, week) => {
    expect(isoWeekOf(date)).toBe(week);
  });

  it("takes the last finished week: on Monday 00:00 local the week just ended, a moment before it the one before", () => {
    expect(previousCompleteWeek(new Date("2026-03-29T22:00:00.000Z"), "Europe/Berlin")).toBe("2026-W13");
    expect(previousCompleteWeek(new Date("2026-03-29T21:59:59.999Z"), "Europe/Berlin")).toBe("2026-W12");
    // In UTC the same instant is already Sunday 22:00 of W13, so W12 is the last finished week.
    expect(previousCompleteWeek(new Date("2026-03-29T22:00:00.000Z"), "UTC")).toBe("2026-W12");
    expect(previousCompleteWeek(new Date("2021-01-04T08:00:00Z"), "UTC")).toBe("2020-W53");
  });

  it("steps across years", () => {
    expect(shiftWeek("2021-W01", -1)).toBe("2020-W53");
    expect(shiftWeek("2026-W53", 1)).toBe("2027-W01");
    expect(mondayOf("2026-W13")).toBe("2026-03-23");
  });

  it.each(["2026-W54", "2025-W53", "2026-W00", "2026-13", "26-W13", "2026-W1"])("refuses %s, naming the week", (text) => {
    expect(() => parseIsoWeek(text)).toThrow(/^week: /);
  });

  it("refuses a time zone that does not exist", () => {
    expect(() => weekPeriod("2026-W13", "Mars/Olympus")).toThrow(/timezone: 'Mars\/Olympus' is not an IANA time zone/);
  });
});
