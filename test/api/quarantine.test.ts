import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, parseCsv, uuidOf, type ApiHarness, type ErrorBody } from "./helpers.ts";
import type { QuarantineEntry } from "../../src/db/queries/quarantine.ts";
import { insertQuarantine, sha256, type QuarantineSeed } from "./quarantine-rows.ts";

/** GET /v1/sync/quarantine over rows inserted directly, as the sync would keep them. */

const P = "quarantine-p";
const Q = "quarantine-q";
const FILE = uuidOf(1, 51);

/** JSON text as Uploadcare sent it: the `\u0000` is an escape (six characters), kept as text. */
const NUL_RAW = `{"uuid":"${FILE}","original_filename":"a\\u0000b.png","metadata":{"note":"ünï ✓"}}`;
const SURROGATE_RAW = `{"uuid":"${uuidOf(2, 51)}","original_filename":"\\ud800.png"}`;

const SEEDS: QuarantineSeed[] = [
  { projectKey: P, raw: NUL_RAW, fileUuid: FILE, source: "list", disposition: "stored_escaped", lastSeenAt: "2026-03-05T00:00:00.000001Z", firstSeenAt: "2026-03-01T00:00:00Z", runId: "run-9" },
  { projectKey: P, raw: SURROGATE_RAW, fileUuid: uuidOf(2, 51), source: "webhook", lastSeenAt: "2026-03-04T00:00:00Z" },
  { projectKey: P, raw: `{"uuid":"${FILE}","size":"big"}`, fileUuid: FILE, source: "file_info", reason: "does not match the file schema: size", lastSeenAt: "2026-03-03T00:00:00Z" },
  { projectKey: P, raw: `{"no":"uuid"}`, fileUuid: null, lastSeenAt: "2026-03-02T00:00:00Z" },
  { projectKey: P, raw: `{"no":"uuid","again":1}`, fileUuid: null, lastSeenAt: "2026-03-02T00:00:00Z" },
  { projectKey: Q, raw: `{"uuid":"${uuidOf(3, 51)}","x":"\\u0000"}`, fileUuid: uuidOf(3, 51), disposition: "stored_escaped", lastSeenAt: "2026-03-04T12:00:00Z" },
  { projectKey: Q, raw: `{"q":2}`, fileUuid: null, lastSeenAt: "2026-02-01T00:00:00Z" },
];

interface Page {
  data: QuarantineEntry[];
  nextCursor: string | null;
  total: number | null;
  totalExact: boolean;
}

/** Newest last sighting first; ties by the raw text's hash, descending. */
const expectedOrder = (seeds: QuarantineSeed[]) =>
  [...seeds]
    .sort((a, b) => (a.lastSeenAt === b.lastSeenAt ? (sha256(a.raw) < sha256(b.raw) ? 1 : -1) : Date.parse(b.lastSeenAt) - Date.parse(a.lastSeenAt)))
    .map((s) => s.raw);

describe.each(backends)("GET /v1/sync/quarantine on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertQuarantine(database.db, SEEDS);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("lists every record, most recently seen first, with the raw text exactly as kept", async () => {
    const { status, body } = await api.json<Page>("/v1/sync/quarantine", { role: "viewer" });
    expect(status).toBe(200);
    expect(body.total).toBe(7);
    expect(body.totalExact).toBe(true);
    expect(body.data.map((r) => r.raw)).toEqual(expectedOrder(SEEDS));
    const nul = body.data.find((r) => r.fileUuid === FILE && r.disposition === "stored_escaped")!;
    expect(nul).toEqual({
      projectKey: P,
      rawSha256: sha256(NUL_RAW),
      fileUuid: FILE,
      source: "list",
      disposition: "stored_escaped",
      reason: "a NUL in original_filename",
      raw: NUL_RAW,
      runId: "run-9",
      firstSeenAt: "2026-03-01T00:00:00.000000Z",
      lastSeenAt: "2026-03-05T00:00:00.000001Z",
    });
    // The escape is text: six characters, not a NUL.
    expect(nul.raw).toContain("a\\u0000b.png");
    expect(nul.raw).not.toContain("\u0000");
    expect(JSON.parse(nul.raw)).toMatchObject({ original_filename: "a\u0000b.png" });
    expect(body.data.find((r) => r.raw === SURROGATE_RAW)?.raw).toBe(SURROGATE_RAW);
  });

  it("pages by keyset through ties without repeating or losing a record", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v1/sync/quarantine?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const { status, body } = await api.json<Page>(query);
      expect(status).toBe(200);
      seen.push(...body.data.map((r) => r.raw));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expectedOrder(SEEDS));
  });

  it("filters by project, disposition, source and file", async () => {
    const raws = async (query: string) => (await api.json<Page>(`/v1/sync/quarantine?${query}`)).body.data.map((r) => r.raw);
    expect(await raws(`project=${Q}`)).toEqual(expectedOrder(SEEDS.filter((s) => s.projectKey === Q)));
    expect(await raws("disposition=stored_escaped")).toEqual(expectedOrder(SEEDS.filter((s) => s.disposition === "stored_escaped")));
    expect(await raws(`project=${P}&disposition=set_aside`)).toEqual(expectedOrder(SEEDS.filter((s) => s.projectKey === P && s.disposition !== "stored_escaped")));
    expect(await raws("source=webhook,file_info")).toEqual(expectedOrder(SEEDS.filter((s) => s.source === "webhook" || s.source === "file_info")));
    expect(await raws(`file=${FILE.toUpperCase()}`)).toEqual(expectedOrder(SEEDS.filter((s) => s.fileUuid === FILE)));
    const counted = await api.json<Page>(`/v1/sync/quarantine?project=${P}&disposition=set_aside&limit=1&count=exact`);
    expect(counted.body.total).toBe(4);
  });

  it("exports the raw text as CSV and NDJSON", async () => {
    const csv = await api.call(`/v1/sync/quarantine?project=${P}&file=${FILE}&format=csv`);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(await csv.text());
    expect(header).toEqual(["project_key", "raw_sha256", "file_uuid", "source", "disposition", "reason", "raw", "run_id", "first_seen_at", "last_seen_at"]);
    expect(rows.map((r) => r[6])).toContain(NUL_RAW);
    const ndjson = await (await api.call(`/v1/sync/quarantine?project=${P}&file=${FILE}`, { headers: { accept: "application/x-ndjson" } })).text();
    expect(ndjson.trim().split("\n").map((l) => (JSON.parse(l) as QuarantineEntry).raw)).toContain(NUL_RAW);
  });

  it("needs a token like every read, and names what is wrong with a query", async () => {
    expect((await api.call("/v1/sync/quarantine", { role: null })).status).toBe(401);
    expect((await api.call("/v1/sync/quarantine", { role: null, headers: { authorization: "Bearer ucl_not-a-live-token-at-all" } })).status).toBe(401);
    for (const role of ["viewer", "operator", "admin"] as const) expect((await api.call("/v1/sync/quarantine", { role })).status).toBe(200);

    const impossible = Buffer.from(JSON.stringify({ s: "sync-quarantine", l: ["2026-02-30T00:00:00Z"], p: P, t: sha256("x") })).toString("base64url");
    const otherListing = Buffer.from(JSON.stringify({ s: "sync-runs", l: ["2026-02-01T00:00:00Z"], p: P, t: uuidOf(1) })).toString("base64url");
    const cases: [string, string][] = [
      ["disposition=lost", "disposition"],
      ["source=ftp", "source"],
      ["file=not-a-uuid", "file: "],
      ["limit=0", "limit: "],
      ["count=maybe", "count: "],
      ["cursor=garbage", "cursor: "],
      [`cursor=${impossible}`, "cursor: "],
      [`cursor=${otherListing}`, "cursor: "],
      ["project=a%00b", "project: "],
      ["colour=red", ""],
    ];
    for (const [query, prefix] of cases) {
      const { status, body } = await api.json<ErrorBody>(`/v1/sync/quarantine?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe("BAD_REQUEST");
      expect(body.error.message.startsWith(prefix), `${query}: ${body.error.message}`).toBe(true);
    }
    const unknown = await api.json<ErrorBody>("/v1/sync/quarantine?project=nope");
    expect(unknown.status).toBe(404);
  });

  it("is in the OpenAPI document as a viewer read", async () => {
    const doc = (await (await api.call("/openapi.json", { role: null })).json()) as { paths: Record<string, Record<string, { "x-role"?: string }>> };
    expect(doc.paths["/v1/sync/quarantine"]?.["get"]?.["x-role"]).toBe("viewer");
  });
});
