import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvField } from "../../src/api/export.ts";
import type { FileSummary } from "../../src/db/queries/files.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, appendTo, event, insertFiles, parseCsv, uuidOf, type ApiHarness } from "./helpers.ts";

const P = "export-p";
const ROWS = 10_123;

/** Values CSV must survive: separators, quotes, line breaks, non-ASCII. */
const AWKWARD: { filename: string; metadata: Record<string, string> }[] = [
  { filename: 'quote " and, comma.png', metadata: { note: "line1\nline2", "k,ey": 'v"al' } },
  { filename: "crlf\r\nname.jpg", metadata: { emoji: "😀 ✓ ünïcødé", empty: "" } },
  { filename: "日本語のファイル名.pdf", metadata: {} },
  { filename: "=SUM(A1) leading equals", metadata: { a: "," } },
];

describe.each(backends)("CSV and NDJSON exports on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(
      database.db,
      AWKWARD.map((a, i) => ({ projectKey: P, uuid: uuidOf(i, 9), uploaded: `2030-01-01T00:00:0${i}Z`, filename: a.filename, metadata: a.metadata })),
    );
    // Enough rows for several export pages (5,000 each), generated in SQL.
    await database.db.execute(sql`insert into files (project_key, uuid, datetime_uploaded, size, mime_type, original_filename, metadata, appdata, data, first_seen_at, updated_at)
      select ${P}, md5('exp' || i)::uuid, timestamptz '2029-01-01 00:00:00+00' + (i / 3) * interval '1 second', i, 'image/jpeg',
        'bulk-' || i || '.jpg', jsonb_build_object('i', i::text), case when i % 2 = 0 then '{"x": {"y": 1}}'::jsonb end, '{}', now(), now()
      from generate_series(1, ${ROWS}) i`);
    await appendTo(database.db, P, [event(uuidOf(0, 9)), event(uuidOf(1, 9), { kind: "stored", before: { a: 'x,"y"' } })]);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  const listings = new Map<string, Promise<Record<string, unknown>[]>>();
  /** Every row of a JSON listing, paged; each listing is read once per file. */
  function jsonListing(query: string): Promise<Record<string, unknown>[]> {
    if (!listings.has(query)) listings.set(query, readListing(query));
    return listings.get(query)!;
  }

  async function readListing(query: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const { body }: { body: { data: Record<string, unknown>[]; nextCursor: string | null } } = await api.json(`${query}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
      out.push(...body.data);
      cursor = body.nextCursor;
    } while (cursor);
    return out;
  }

  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  /** What a JSON value looks like in a CSV cell. */
  const cell = (value: unknown) => (value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));

  it("streams every file as CSV with a header, equal row for row to the JSON listing", async () => {
    const res = await api.call(`/v1/files?project=${P}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="files.csv"');
    const [header, ...rows] = parseCsv(await res.text());
    const listing = await jsonListing(`/v1/files?project=${P}`);
    expect(listing).toHaveLength(ROWS + AWKWARD.length);
    expect(header).toEqual(Object.keys(listing[0]!).map(snake));
    expect(rows).toHaveLength(listing.length);
    rows.forEach((row, i) => expect(row).toEqual(Object.values(listing[i]!).map(cell)));
    // The awkward ones survived intact.
    const names = rows.slice(0, AWKWARD.length).map((r) => r[header!.indexOf("original_filename")]);
    expect(names).toEqual(AWKWARD.map((a) => a.filename).reverse());
    expect(JSON.parse(rows[3]![header!.indexOf("metadata")]!)).toEqual(AWKWARD[0]!.metadata);
  });

  it("streams NDJSON lines equal to the JSON listing, chosen by the Accept header", async () => {
    const res = await api.call(`/v1/files?project=${P}`, { headers: { Accept: "application/x-ndjson" } });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n").map((l) => JSON.parse(l) as FileSummary);
    expect(lines).toEqual(await jsonListing(`/v1/files?project=${P}`));
  });

  it.each([
    [{ Accept: "text/csv" }, "", "text/csv"],
    [{ Accept: "application/json;q=0.5, text/csv;q=0.9" }, "", "text/csv"],
    [{ Accept: "text/*" }, "", "text/csv"],
    [{ Accept: "text/csv" }, "&format=ndjson", "application/x-ndjson"],
    [{ Accept: "application/x-ndjson" }, "&format=json", "application/json"],
    [{ Accept: "*/*" }, "", "application/json"],
    [{}, "", "application/json"],
  ])("negotiates %o with %s as %s", async (headers, format, expected) => {
    const res = await api.call(`/v1/files?project=${P}&limit=2${format}`, { headers });
    expect(res.headers.get("content-type")).toContain(expected);
    await res.body?.cancel();
  });

  it("stops an export after limit rows when given, and starts after the cursor", async () => {
    const limited = parseCsv(await (await api.call(`/v1/files?project=${P}&format=csv&limit=7`)).text());
    expect(limited).toHaveLength(8);
    const first = await api.json<{ data: FileSummary[]; nextCursor: string }>(`/v1/files?project=${P}&limit=3`);
    const rest = (await (await api.call(`/v1/files?project=${P}&format=ndjson&limit=2&cursor=${first.body.nextCursor}`)).text()).trim().split("\n");
    const expected = (await api.json<{ data: FileSummary[] }>(`/v1/files?project=${P}&limit=5`)).body.data.slice(3);
    expect(rest.map((l) => JSON.parse(l) as FileSummary)).toEqual(expected);
  });

  it("counts exactly up to 100,000 matches (estimates beyond only from real statistics)", async () => {
    const auto = await api.json<{ total: number; totalExact: boolean }>(`/v1/files?project=${P}&limit=1`);
    expect(auto.body).toMatchObject({ total: ROWS + AWKWARD.length, totalExact: true });
    const exact = await api.json<{ total: number; totalExact: boolean }>(`/v1/files?project=${P}&limit=1&count=exact`);
    expect(exact.body).toMatchObject({ total: ROWS + AWKWARD.length, totalExact: true });
    const few = await api.json<{ total: number; totalExact: boolean }>(`/v1/files?project=${P}&limit=1&sizeMax=999`);
    expect(few.body).toMatchObject({ total: 999, totalExact: true });
  });

  it("exports the audit trail with its JSON columns as JSON text", async () => {
    const csv = parseCsv(await (await api.call(`/v1/events?project=${P}&order=asc`, { headers: { Accept: "text/csv" } })).text());
    const [header, ...rows] = csv;
    expect(header).toEqual(["project_key", "seq", "file_uuid", "kind", "before", "after", "occurred_at", "observed_at", "source", "run_id", "plan_id", "actor", "prev_hash", "hash"]);
    expect(rows).toHaveLength(2);
    expect(JSON.parse(rows[1]![4]!)).toEqual({ a: 'x,"y"' });
    expect(JSON.parse(rows[0]![5]!)).toEqual({ note: 'ünïcødé, "quoted"\nline' });
  });

  it("exports an empty result as the header alone", async () => {
    const text = await (await api.call(`/v1/usage?format=csv`)).text();
    expect(text).toBe("project_key,date,metric,value,unit,fetched_at\r\n");
    expect(await (await api.call(`/v1/usage?format=ndjson`)).text()).toBe("");
  });

  it.each<[unknown, string]>([
    [null, ""],
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\r", '"cr\r"'],
    [12.5, "12.5"],
    [false, "false"],
    [{ k: "v,w" }, '"{""k"":""v,w""}"'],
    ["ünïcødé ✓", "ünïcødé ✓"],
  ])("escapes %j as %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});
