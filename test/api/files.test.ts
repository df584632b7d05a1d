import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FileSummary } from "../../src/db/queries/files.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness, type ErrorBody, type FileSeed } from "./helpers.ts";

interface Page {
  data: FileSummary[];
  nextCursor: string | null;
  total: number | null;
  totalExact: boolean;
}

const A = "files-a";
const B = "files-b";
const C = "files-c";
const MIMES = ["image/png", "image/jpeg", "application/pdf", "video/mp4"];

/**
 * 90 files in A and 60 in B. Upload times repeat (every 7 files share one), so
 * ties across projects and within one test the keyset tie-breaking.
 */
function seeds(): FileSeed[] {
  const out: FileSeed[] = [];
  for (let i = 0; i < 150; i++) {
    const projectKey = i < 90 ? A : B;
    const minute = Math.floor(i / 7);
    out.push({
      projectKey,
      uuid: uuidOf(i, projectKey === A ? 1 : 2),
      uploaded: `2025-03-01T10:${String(minute).padStart(2, "0")}:00.${String(i % 3).padStart(6, "0")}Z`,
      size: 1000 + ((i * 37) % 50) * 100,
      mimeType: MIMES[i % 4],
      filename: i === 5 ? "100%_done.png" : i === 6 ? "100 done.png" : `file-${i}.png`,
      stored: i % 5 === 0 ? null : "2025-03-02T00:00:00Z",
      removed: i % 10 === 3 ? "2025-03-03T00:00:00Z" : null,
      missingSince: i === 42 ? "2025-04-01T00:00:00Z" : null,
      metadata: i % 3 === 0 ? { source: "web", "a,b": 'x"y' } : { source: "api" },
      appdata: i % 4 === 1 ? { uc_clamav_virus_scan: { data: { infected: false } } } : null,
    });
  }
  return out;
}

describe.each(backends)("files API on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  const all = seeds();

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(database.db, all);
    // The same uuid in two projects.
    await insertFiles(database.db, [{ projectKey: C, uuid: uuidOf(1, 1), uploaded: "2025-01-01T00:00:00Z" }]);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function everything(query: string): Promise<FileSummary[]> {
    const out: FileSummary[] = [];
    let cursor: string | null = null;
    do {
      const { status, body }: { status: number; body: Page } = await api.json<Page>(`/v1/files?${query}&limit=13${cursor ? `&cursor=${cursor}` : ""}`);
      expect(status).toBe(200);
      out.push(...body.data);
      cursor = body.nextCursor;
    } while (cursor);
    return out;
  }

  const inAB = (f: FileSeed) => f.projectKey === A || f.projectKey === B;
  const key = (f: { projectKey: string; uuid: string }) => `${f.projectKey}/${f.uuid}`;
  const byUploadDesc = (x: FileSeed, y: FileSeed) =>
    (x.uploaded < y.uploaded ? 1 : x.uploaded > y.uploaded ? -1 : 0) || (x.projectKey < y.projectKey ? 1 : -1) || (x.uuid < y.uuid ? 1 : -1);

  it("pages every file across projects exactly once, newest first, ties broken by project then uuid", async () => {
    const got = await everything("project=" + A).then(async (a) => [...a, ...(await everything("project=" + B))]);
    expect(got).toHaveLength(150);
    const merged = (await everything("")).filter((f) => f.projectKey !== C);
    expect(merged.map(key)).toEqual(all.filter(inAB).sort(byUploadDesc).map(key));
  });

  it("sorts by size both ways, with keyset pages equal to one big page", async () => {
    const asc = await everything(`project=${A}&sort=size&order=asc`);
    const sizes = asc.map((f) => f.size);
    expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
    const desc = await everything(`project=${A}&sort=size&order=desc`);
    expect(desc.map(key)).toEqual([...asc].reverse().map(key));
    const { body } = await api.json<Page>(`/v1/files?project=${A}&sort=size&order=asc&limit=1000`);
    expect(body.data.map(key)).toEqual(asc.map(key));
  });

  it.each<[string, (f: FileSeed) => boolean]>([
    ["stored=true", (f) => f.stored !== null],
    ["stored=false", (f) => f.stored === null],
    ["removed=true", (f) => f.removed !== null],
    ["stored=false&removed=false", (f) => f.stored === null && f.removed === null],
    ["missing=true", (f) => f.missingSince !== null],
    ["mime=application/pdf", (f) => f.mimeType === "application/pdf"],
    ["mime=image/", (f) => f.mimeType!.startsWith("image/")],
    ["mime=image/*", (f) => f.mimeType!.startsWith("image/")],
    ["sizeMin=2000&sizeMax=3000", (f) => f.size! >= 2000 && f.size! <= 3000],
    ["uploadedFrom=2025-03-01T10:05:00Z&uploadedTo=2025-03-01T10:09:00Z", (f) => f.uploaded >= "2025-03-01T10:05" && f.uploaded < "2025-03-01T10:09"],
    ["metadata=source%3Dweb", (f) => f.metadata!["source"] === "web"],
    ["metadata=source%3Dweb&metadata=a%2Cb%3Dx%22y", (f) => f.metadata!["a,b"] === 'x"y'],
    ["appdata=uc_clamav_virus_scan", (f) => f.appdata !== null],
    ["filename=100%25_", (f) => f.filename === "100%_done.png"],
    ["filename=FILE-1", (f) => f.filename!.startsWith("file-1")],
  ])("filters %s", async (query, predicate) => {
    const got = await everything(query);
    const expected = all.filter((f) => inAB(f) && predicate(f)).sort(byUploadDesc).map(key);
    expect(expected.length).toBeGreaterThan(0);
    expect(got.filter((f) => f.projectKey !== C).map(key)).toEqual(expected);
    const { body } = await api.json<Page>(`/v1/files?${query}&project=${A}&limit=1`);
    expect(body.total).toBe(all.filter((f) => f.projectKey === A && predicate(f)).length);
    expect(body.totalExact).toBe(true);
  });

  it("counts exactly, or not at all with count=none", async () => {
    expect((await api.json<Page>(`/v1/files?project=${B}&count=exact&limit=1`)).body).toMatchObject({ total: 60, totalExact: true });
    expect((await api.json<Page>(`/v1/files?project=${B}&count=none&limit=1`)).body).toMatchObject({ total: null, totalExact: false });
  });

  it("answers one file with its whole object, and 409 when the uuid is in several projects", async () => {
    const single = await api.json<FileSummary & { data: unknown }>(`/v1/files/${uuidOf(100, 2)}`);
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ projectKey: B, uuid: uuidOf(100, 2), data: { uuid: uuidOf(100, 2) } });

    const twice = await api.json<ErrorBody>(`/v1/files/${uuidOf(1, 1)}`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain(`${A}, ${C}`);
    const named = await api.json<FileSummary>(`/v1/files/${uuidOf(1, 1)}?project=${C}`);
    expect(named.body.projectKey).toBe(C);
    // Upper-case uuids are the same uuid.
    expect((await api.call(`/v1/files/${uuidOf(100, 2).toUpperCase()}`)).status).toBe(200);
  });

  it.each([
    ["/v1/files?stored=yes", "stored"],
    ["/v1/files?sizeMin=-1", "sizeMin"],
    ["/v1/files?sizeMax=1e9", "sizeMax"],
    ["/v1/files?uploadedFrom=yesterday", "uploadedFrom"],
    ["/v1/files?uploadedTo=0000-01-01T00:00:00Z", "uploadedTo"],
    ["/v1/files?sort=name", "sort"],
    ["/v1/files?order=up", "order"],
    ["/v1/files?limit=0", "limit"],
    ["/v1/files?limit=1001", "limit"],
    ["/v1/files?metadata=novalue", "metadata"],
    ["/v1/files?cursor=garbage", "cursor"],
    ["/v1/files?filename=a%00b", "filename"],
    ["/v1/files?project=a&project=b", "project"],
    ["/v1/files?colour=red", "colour"],
    ["/v1/files/not-a-uuid", "uuid"],
  ])("answers 400 naming the parameter for %s", async (path, param) => {
    const { status, body } = await api.json<ErrorBody>(path);
    expect(status).toBe(400);
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toContain(param);
  });

  it("refuses a cursor made for another sort order", async () => {
    const first = await api.json<Page>(`/v1/files?limit=2`);
    const { status, body } = await api.json<ErrorBody>(`/v1/files?sort=size&cursor=${first.body.nextCursor}`);
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^cursor: /);
  });

  it("answers 404 for an unknown file or project", async () => {
    expect((await api.json<ErrorBody>(`/v1/files/${uuidOf(999, 9)}`)).body.error.code).toBe("NOT_FOUND");
    expect((await api.call(`/v1/files/${uuidOf(100, 2)}?project=${A}`)).status).toBe(404);
    const unknown = await api.json<ErrorBody>("/v1/files?project=nope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe("project nope not found");
  });
});
