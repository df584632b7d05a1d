import { listOfFiles, paginate } from "@uploadcare/rest-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { authSchemes, control, raw, sdkSettings } from "./helpers.ts";

let sb: Sandbox;
let allLive: Set<string>;
/** Upload time shared by a run placed across the 1000-file page boundary. */
let boundaryTime: string;

beforeAll(async () => {
  sb = await startSandbox({ files: 2500, seed: 7 });
  const first = (await raw(sb, "/files/?limit=1000")).json();
  boundaryTime = first.results[995].datetime_uploaded;
  await control(sb, "POST", "/files", { count: 10, datetime_uploaded: boundaryTime });
  allLive = new Set(await followAll("/files/?limit=1000"));
});

afterAll(() => sb.close());

/** Follows next links verbatim (as the Go and Python SDKs do) and returns the uuids in order. */
async function followAll(start: string): Promise<string[]> {
  const uuids: string[] = [];
  let uri: string | null = start;
  while (uri) {
    const page = (await raw(sb, uri)).json();
    uuids.push(...page.results.map((f: { uuid: string }) => f.uuid));
    uri = page.next ? page.next.slice(sb.url.length) : null;
  }
  return uuids;
}

describe("GET /files/ pagination", () => {
  it("has a run of equal upload times across the first page boundary", async () => {
    const times: string[] = [];
    for (let uri: string | null = "/files/?limit=100"; uri && times.length < 1100; ) {
      const page = (await raw(sb, uri)).json();
      times.push(...page.results.map((f: { datetime_uploaded: string }) => f.datetime_uploaded));
      uri = page.next.slice(sb.url.length);
    }
    const run = times.flatMap((t: string, i: number) => (t === boundaryTime ? [i] : []));
    expect(run.length).toBeGreaterThanOrEqual(11);
    expect(Math.min(...run)).toBeLessThan(1000);
    expect(Math.max(...run)).toBeGreaterThanOrEqual(1000);
  });

  it("fills the 1000-file page across that run and carries the place in the run in from", async () => {
    const page = (await raw(sb, "/files/?limit=1000")).json();
    expect(page.results).toHaveLength(1000);
    const next = new URL(page.next);
    const from = next.searchParams.get("from") as string;
    const inRun = page.results.filter((f: { datetime_uploaded: string }) => f.datetime_uploaded === boundaryTime).length;
    expect(from).toBe(`${boundaryTime.slice(0, 26)}${String(inRun).padStart(3, "0")}+00:00`);
    expect(next.searchParams.get("offset")).toBe("0");
  });

  it("lists every live file exactly once when following next links verbatim", async () => {
    const uuids = await followAll("/files/?limit=1000");
    const info = (await raw(sb, "/files/?limit=1")).json();
    expect(uuids.length).toBe(info.totals.stored + info.totals.unstored);
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  for (const scheme of [0, 1] as const) {
    it(`returns each uuid exactly once through the SDK's paginate (${scheme ? "signed" : "simple"} auth)`, async () => {
      const [, schema] = authSchemes(sb)[scheme];
      const seen: string[] = [];
      let pages = 0;
      for await (const page of paginate(listOfFiles)({ limit: 1000 }, sdkSettings(sb, schema))) {
        pages++;
        seen.push(...page.results.map((f) => f.uuid));
        expect(page.totals).toEqual(expect.objectContaining({ removed: expect.any(Number), stored: expect.any(Number), unstored: expect.any(Number) }));
      }
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(seen).toEqual([...allLive]);
    });
  }

  it("pages in descending order through the SDK, newest first, each file once", async () => {
    const [, schema] = authSchemes(sb)[1];
    const seen: string[] = [];
    let last = "9999";
    for await (const page of paginate(listOfFiles)({ limit: 1000, ordering: "-datetime_uploaded" }, sdkSettings(sb, schema))) {
      for (const f of page.results) {
        expect(f.datetimeUploaded <= last).toBe(true);
        last = f.datetimeUploaded;
        seen.push(f.uuid);
      }
    }
    expect(seen).toEqual([...allLive].reverse());
  });

  it("builds next/previous on the sandbox's own base with microsecond +00:00 times and carried params", async () => {
    const page1 = (await raw(sb, "/files/?limit=500&stored=true&ordering=datetime_uploaded")).json();
    expect(page1.next).toMatch(
      new RegExp(`^${sb.url}/files/\\?limit=500&ordering=datetime_uploaded&stored=true&from=\\d{4}-\\d\\d-\\d\\dT\\d\\d%3A\\d\\d%3A\\d\\d\\.\\d{6}(\\d{3,})?%2B00%3A00&offset=0$`),
    );
    expect(page1.previous).toBeNull();
    const page2 = (await raw(sb, page1.next.slice(sb.url.length))).json();
    expect(page2.previous).toMatch(/&to=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{6}(\d{3,})?%2B00%3A00&offset=0$/);
    const back = (await raw(sb, page2.previous.slice(sb.url.length))).json();
    expect(back.results.map((f: { uuid: string }) => f.uuid)).toEqual(page1.results.map((f: { uuid: string }) => f.uuid));
    expect(page2.per_page).toBe(500);
  });

  it("pages through a run of equal times longer than a page with the place in from, offset 0", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 25, datetime_uploaded: "2020-01-01T00:00:00.123456Z" });
    const seen: string[] = [];
    const links: URL[] = [];
    let uri: string | null = `/files/?limit=10&from=${encodeURIComponent("2019-12-31T23:59:59Z")}`;
    while (uri && seen.length < 40) {
      const page = (await raw(sb, uri)).json();
      seen.push(...page.results.map((f: { uuid: string }) => f.uuid));
      uri = page.next ? page.next.slice(sb.url.length) : null;
      if (uri) links.push(new URL(page.next));
    }
    expect(seen.slice(0, 25)).toEqual([...uuids].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(links.slice(0, 2).map((u) => u.searchParams.get("from"))).toEqual(["2020-01-01T00:00:00.123456010+00:00", "2020-01-01T00:00:00.123456020+00:00"]);
    expect(links.every((u) => u.searchParams.get("offset") === "0")).toBe(true);
  });

  it("treats from as strictly after when ascending and at-or-before when descending", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 1, datetime_uploaded: "2021-03-04T05:06:07.080910Z" });
    const from = encodeURIComponent("2021-03-04T05:06:07.080910+00:00");
    const asc = (await raw(sb, `/files/?limit=5&from=${from}`)).json();
    expect(asc.results.map((f: { uuid: string }) => f.uuid)).not.toContain(uuids[0]);
    expect(asc.results[0].datetime_uploaded > "2021-03-04T05:06:07.080910Z").toBe(true);
    const desc = (await raw(sb, `/files/?limit=5&ordering=-datetime_uploaded&from=${from}`)).json();
    expect(desc.results[0].uuid).toBe(uuids[0]);
    // `from` with milliseconds and Z, as the SDK's first request sends it, also works.
    const ms = (await raw(sb, `/files/?limit=5&ordering=-datetime_uploaded&from=2021-03-04T05:06:07.081Z`)).json();
    expect(ms.results[0].uuid).toBe(uuids[0]);
  });

  it("skips items with offset after from", async () => {
    const from = encodeURIComponent("2020-01-01T00:00:00.123455Z");
    const all = (await raw(sb, `/files/?limit=25&from=${from}`)).json();
    const skipped = (await raw(sb, `/files/?limit=5&from=${from}&offset=20`)).json();
    expect(skipped.results.map((f: { uuid: string }) => f.uuid)).toEqual(all.results.slice(20, 25).map((f: { uuid: string }) => f.uuid));
  });

  it("keeps total to the queried type, not narrowed by from, and always sends totals", async () => {
    const plain = (await raw(sb, "/files/?limit=1")).json();
    const late = (await raw(sb, `/files/?limit=1&from=${encodeURIComponent("2026-01-01T00:00:00Z")}`)).json();
    expect(late.total).toBe(plain.total);
    expect(plain.total).toBe(plain.totals.stored + plain.totals.unstored);
    const stored = (await raw(sb, "/files/?limit=1000&stored=true")).json();
    expect(stored.total).toBe(plain.totals.stored);
    expect(stored.results.every((f: { datetime_stored: string | null }) => f.datetime_stored !== null)).toBe(true);
    const removed = (await raw(sb, "/files/?limit=1000&removed=true")).json();
    expect(removed.total).toBe(plain.totals.removed);
    expect(removed.results.length).toBeGreaterThan(0);
    expect(removed.results.every((f: { datetime_removed: string | null; original_file_url: string | null }) => f.datetime_removed !== null && f.original_file_url === null)).toBe(true);
  });

  it("adds appdata only with include=appdata", async () => {
    const without = (await raw(sb, "/files/?limit=50")).json();
    expect(without.results.every((f: object) => !("appdata" in f))).toBe(true);
    const withAppdata = (await raw(sb, "/files/?limit=50&include=appdata")).json();
    expect(withAppdata.results.every((f: object) => "appdata" in f)).toBe(true);
    expect(withAppdata.next).toContain("include=appdata");
  });

  it("refuses a limit outside 1..1000 and an unknown ordering", async () => {
    for (const q of ["limit=1001", "limit=0", "limit=abc", "ordering=size", "from=yesterday"]) {
      const res = await raw(sb, `/files/?${q}`);
      expect(res.status, q).toBe(400);
      expect(typeof res.json().detail).toBe("string");
    }
  });
});
