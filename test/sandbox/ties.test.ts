import { Paginator, listOfFiles, paginate } from "@uploadcare/rest-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { authSchemes, control, raw, sdkSettings } from "./helpers.ts";

// Runs of equal upload times longer than a page. The official SDK's
// `listOfFiles` forwards only from/limit/ordering/stored/removed from a `next`
// link, so the place inside a run has to ride in `from` (README, Pagination).

const TIE_SIZE = 30;
const LIMIT = 7;
/** Enough pages for every test here; more means `paginate` is looping. */
const PAGE_GUARD = 40;

type Filter = { stored?: boolean; removed?: boolean };

function micros(date: Date, extraUs: number): string {
  // Whole seconds from the Date, then exact microseconds.
  const base = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const us = 250_000 + extraUs;
  return `${base.toISOString().slice(0, 19)}.${String(us).padStart(6, "0")}Z`;
}

async function uploadAt(sb: Sandbox, datetime: string, count = 1, stored = true): Promise<string[]> {
  return (await control(sb, "POST", "/files", { count, datetime_uploaded: datetime, stored })).uuids;
}

/** Follows next links verbatim (as the Go and Python SDKs do); `dropOffset` strips `offset` first. */
async function followRaw(sb: Sandbox, start: string, dropOffset = false): Promise<{ uuids: string[]; links: URL[] }> {
  const uuids: string[] = [];
  const links: URL[] = [];
  let uri: string | null = start;
  for (let pages = 0; uri && pages < PAGE_GUARD; pages++) {
    const page = (await raw(sb, uri)).json();
    uuids.push(...page.results.map((f: { uuid: string }) => f.uuid));
    if (!page.next) break;
    const next = new URL(page.next);
    links.push(next);
    if (dropOffset) next.searchParams.delete("offset");
    uri = next.pathname + next.search;
  }
  return { uuids, links };
}

/** The SDK's `paginate(listOfFiles)`, stopped by a guard if it loops. */
async function sdkList(sb: Sandbox, options: Record<string, unknown>): Promise<{ uuids: string[]; pages: number[] }> {
  const [, schema] = authSchemes(sb)[1];
  const uuids: string[] = [];
  const pages: number[] = [];
  for await (const page of paginate(listOfFiles)(options, sdkSettings(sb, schema))) {
    uuids.push(...page.results.map((f) => f.uuid));
    pages.push(page.results.length);
    if (pages.length >= PAGE_GUARD) break;
  }
  return { uuids, pages };
}

function query(filter: Filter, extra = ""): string {
  const q = new URLSearchParams();
  if (filter.stored !== undefined) q.set("stored", String(filter.stored));
  if (filter.removed !== undefined) q.set("removed", String(filter.removed));
  return `/files/?limit=1000&${q.toString()}${extra}`;
}

describe("a 30-file run of equal upload times at limit 7", () => {
  let sb: Sandbox;
  let tieTime: string;
  let tie: string[];
  /** Every live file in listing order, read in one page. */
  let all: string[];

  beforeAll(async () => {
    sb = await startSandbox({ files: 0, seed: 11 });
    const day = new Date(sb.now().getTime() - 86_400_000 * 3);
    tieTime = micros(day, 0);
    // Neighbours one microsecond either side, so an off-by-one shows.
    await uploadAt(sb, micros(day, -2));
    await uploadAt(sb, micros(day, -1));
    tie = await uploadAt(sb, tieTime, TIE_SIZE);
    await uploadAt(sb, micros(day, 1));
    await uploadAt(sb, micros(day, 2));
    const page = (await raw(sb, "/files/?limit=1000")).json();
    all = page.results.map((f: { uuid: string }) => f.uuid);
  });

  afterAll(() => sb.close());

  it("holds the run between its neighbours, in uuid order", () => {
    expect(all).toHaveLength(TIE_SIZE + 4);
    expect(all.slice(2, 2 + TIE_SIZE)).toEqual([...tie].sort());
  });

  it("the SDK's paginate(listOfFiles) lists each file exactly once, in order, in full pages, and stops", async () => {
    const since = sb.requests().at(-1)?.seq ?? 0;
    const { uuids, pages } = await sdkList(sb, { limit: LIMIT });
    expect(uuids).toEqual(all);
    expect(pages).toEqual([7, 7, 7, 7, 6]);
    // The SDK really dropped offset; the place in the run came through `from`.
    const froms = sb
      .requests(since)
      .filter((r) => r.path === "/files/")
      .map((r) => {
        expect(r.query).not.toHaveProperty("offset");
        return r.query["from"];
      });
    expect(froms.slice(1).filter((f) => f !== undefined && /\.\d{9}\+00:00$/.test(f))).toHaveLength(4);
  });

  it("the SDK's Paginator walks it the same way", async () => {
    const [, schema] = authSchemes(sb)[0];
    const paginator = new Paginator(listOfFiles, { limit: LIMIT }, sdkSettings(sb, schema));
    const uuids: string[] = [];
    for (let n = 0; paginator.hasNextPage() && n < PAGE_GUARD; n++) {
      const page = await paginator.next();
      uuids.push(...(page?.results ?? []).map((f) => f.uuid));
    }
    expect(uuids).toEqual(all);
  });

  it("the SDK lists it newest first with ordering=-datetime_uploaded", async () => {
    const { uuids, pages } = await sdkList(sb, { limit: LIMIT, ordering: "-datetime_uploaded" });
    expect(uuids).toEqual([...all].reverse());
    expect(pages).toEqual([7, 7, 7, 7, 6]);
  });

  it("a plain `from` at the run's time skips the run ascending and keeps it descending", async () => {
    const after = await sdkList(sb, { limit: LIMIT, from: tieTime });
    expect(after.uuids).toEqual(all.slice(2 + TIE_SIZE));
    const atOrBefore = await sdkList(sb, { limit: LIMIT, from: tieTime, ordering: "-datetime_uploaded" });
    expect(atOrBefore.uuids).toEqual(all.slice(0, 2 + TIE_SIZE).reverse());
  });

  it("raw next links keep offset (always 0) and page exactly whether a client forwards it or not", async () => {
    for (const ordering of ["", "&ordering=-datetime_uploaded"]) {
      const expected = ordering ? [...all].reverse() : all;
      const verbatim = await followRaw(sb, `/files/?limit=${LIMIT}${ordering}`);
      expect(verbatim.uuids).toEqual(expected);
      expect(verbatim.links.every((u) => u.searchParams.get("offset") === "0")).toBe(true);
      const inRun = verbatim.links.map((u) => u.searchParams.get("from") as string).filter((f) => f.startsWith(tieTime.slice(0, 26)));
      expect(inRun.length).toBeGreaterThan(0);
      expect(inRun.every((f) => /\.250000\d{3}\+00:00$/.test(f))).toBe(true);
      expect((await followRaw(sb, `/files/?limit=${LIMIT}${ordering}`, true)).uuids).toEqual(expected);
    }
  });

  it("still honours a hand-made offset after a plain from", async () => {
    const before = encodeURIComponent(micros(new Date(Date.parse(tieTime)), -1));
    const page = (await raw(sb, `/files/?limit=${LIMIT}&from=${before}&offset=20`)).json();
    expect(page.results.map((f: { uuid: string }) => f.uuid)).toEqual(all.slice(22, 29));
    // ...and after a tie cursor: 10 files of the run behind, then skip 5 more.
    const cursor = encodeURIComponent(`${tieTime.slice(0, 26)}010+00:00`);
    const skipped = (await raw(sb, `/files/?limit=${LIMIT}&from=${cursor}&offset=5`)).json();
    expect(skipped.results.map((f: { uuid: string }) => f.uuid)).toEqual(all.slice(17, 24));
  });

  it("walks back through the run with previous links, each file once", async () => {
    for (const ordering of ["", "&ordering=-datetime_uploaded"]) {
      const expected = ordering ? [...all].reverse() : all;
      let page = (await raw(sb, `/files/?limit=${LIMIT}${ordering}`)).json();
      for (let n = 0; page.next && n < PAGE_GUARD; n++) page = (await raw(sb, page.next.slice(sb.url.length))).json();
      const seen: string[] = page.results.map((f: { uuid: string }) => f.uuid);
      for (let n = 0; page.previous && n < PAGE_GUARD; n++) {
        expect(page.previous).toMatch(/&to=[^&]+&offset=0$/);
        page = (await raw(sb, page.previous.slice(sb.url.length))).json();
        expect(page.results).toHaveLength(LIMIT);
        seen.unshift(...page.results.map((f: { uuid: string }) => f.uuid));
      }
      expect(seen).toEqual(expected);
    }
  });
});

describe("a run longer than a page under the stored/removed filters", () => {
  let sb: Sandbox;
  let tieTime: string;

  beforeAll(async () => {
    sb = await startSandbox({ files: 0, seed: 12 });
    // Recent enough that unstored files have not expired yet.
    const recent = new Date(sb.now().getTime() - 3_600_000);
    tieTime = micros(recent, 0);
    await uploadAt(sb, micros(recent, -1), 2);
    const stored = await uploadAt(sb, tieTime, 20, true);
    const unstored = await uploadAt(sb, tieTime, 12, false);
    await uploadAt(sb, micros(recent, 1), 2, false);
    for (const uuid of [...stored.slice(0, 6), ...unstored.slice(0, 3)]) {
      await control(sb, "PATCH", `/files/${uuid}`, { status: "removed" });
    }
  });

  afterAll(() => sb.close());

  for (const filter of [{}, { stored: true }, { stored: false }, { removed: true }] as Filter[]) {
    it(`pages ${JSON.stringify(filter)} through the SDK at limit ${LIMIT}, each file once, in order`, async () => {
      const truth = (await raw(sb, query(filter))).json().results.map((f: { uuid: string }) => f.uuid);
      expect(truth.length).toBeGreaterThan(LIMIT);
      for (const ordering of ["datetime_uploaded", "-datetime_uploaded"]) {
        const expected = ordering.startsWith("-") ? [...truth].reverse() : truth;
        const { uuids, pages } = await sdkList(sb, { limit: LIMIT, ordering, ...filter });
        expect(uuids, ordering).toEqual(expected);
        expect(pages.slice(0, -1).every((n) => n === LIMIT)).toBe(true);
        const verbatim = await followRaw(sb, query(filter, `&ordering=${ordering}`).replace("limit=1000", `limit=${LIMIT}`));
        expect(verbatim.uuids, ordering).toEqual(expected);
      }
    });
  }

  it("keeps its place in a run when files change status between pages", async () => {
    const first = (await raw(sb, `/files/?limit=${LIMIT}&stored=true`)).json();
    const next = new URL(first.next);
    expect(next.searchParams.get("from")?.startsWith(tieTime.slice(0, 26))).toBe(true);
    // A file already served is deleted: the rest of the run must neither shift nor repeat.
    await control(sb, "PATCH", `/files/${first.results[LIMIT - 1].uuid}`, { status: "removed" });
    const rest = await followRaw(sb, next.pathname + next.search);
    const served = first.results.map((f: { uuid: string }) => f.uuid);
    const now = (await raw(sb, "/files/?limit=1000&stored=true")).json().results.map((f: { uuid: string }) => f.uuid);
    expect(rest.uuids).toEqual(now.filter((u: string) => !served.includes(u)));
  });
});
