import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness, type ErrorBody } from "../api/helpers.ts";
import { SETTINGS, valueFor } from "./helpers.ts";

const P = "refs-api-p";
const Q = "refs-api-q";
const uuids = Array.from({ length: 40 }, (_, i) => uuidOf(i, 21));

interface Page<T> {
  data: T[];
  nextCursor: string | null;
  total: number | null;
}

const ndjson = (lines: object[]) => lines.map((l) => JSON.stringify(l)).join("\n") + "\n";

describe.each(backends)("the references API on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let now = new Date("2026-04-01T00:00:00Z");

  const put = (body: string, query = `project=${P}`, role: "operator" | "viewer" | null = "operator") =>
    api.json<Record<string, unknown>>(`/v1/references/app-db?${query}`, { method: "PUT", body, headers: { "Content-Type": "application/x-ndjson" }, role });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // 40 files uploaded in January; the last 5 in late March (inside any grace period).
    await insertFiles(
      database.db,
      uuids.map((uuid, i) => ({ projectKey: P, uuid, uploaded: i < 35 ? `2026-01-${String(1 + (i % 28)).padStart(2, "0")}T00:00:00Z` : "2026-03-30T00:00:00Z", size: 100 * (i + 1) })),
    );
    await insertFiles(database.db, [{ projectKey: Q, uuid: uuidOf(1, 22), uploaded: "2026-01-01T00:00:00Z" }]);
    api = await apiHarness(database, {
      now: () => now,
      projects: [{ publicKey: P }, { publicKey: Q }],
      references: { ...SETTINGS, sources: [{ name: "erp", projectKey: P, staleAfterHours: 24, pull: { url: "postgres://u:secret@db.invalid/app", query: "select 1", schedule: "0 * * * *", statementTimeoutMs: 1000 } }] },
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("replaces a set from streamed NDJSON, counting values that name no file, and answers each file's references", async () => {
    const lines = [
      ...uuids.slice(0, 30).map((uuid, i) => ({ ref: `orders/${i}`, value: valueFor(uuid, i) })),
      { ref: "orders/x", value: "https://example.net/not-ours.png" },
      { ref: "orders/y", value: "hello" },
      { ref: "orders/z", value: uuidOf(999, 21) },
    ];
    const { status, body } = await put(ndjson(lines));
    expect(status).toBe(200);
    expect(body).toMatchObject({ projectKey: P, source: "app-db", size: 31, added: 31, removed: 0, unresolved: 2, unknownFiles: 1, nowReferenced: 31 });
    expect(body.unresolvedSamples).toEqual([
      { ref: "orders/x", value: "https://example.net/not-ours.png", reason: "example.net is not an Uploadcare CDN or a configured CDN domain" },
      { ref: "orders/y", value: "hello", reason: "not a UUID or a CDN URL" },
    ]);

    const one = await api.json<Record<string, unknown>>(`/v1/files/${uuids[1]}/references`, { role: "viewer" });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      referenced: true,
      unreferencedSince: null,
      lastReferencedAt: "2026-04-01T00:00:00.000000Z",
      heldByStaleSource: false,
      references: [{ source: "app-db", ref: "orders/1", value: `https://ucarecdn.com/${uuids[1]}/-/resize/200x/`, sourceStale: false }],
    });
    const file = await api.json<Record<string, unknown>>(`/v1/files/${uuids[35]}`, { role: "viewer" });
    expect(file.body).toMatchObject({ referenced: false, unreferencedSince: "2026-04-01T00:00:00.000000Z" });
  });

  it("lists unreferenced files, by how long they have been, with either spelling of the parameter", async () => {
    // Ten days later, drop orders/0-2 (3 of 31: under the 10% limit).
    now = new Date("2026-04-11T00:00:00Z");
    const keep = uuids.slice(3, 30).map((uuid, i) => ({ ref: `orders/${i + 3}`, value: uuid }));
    expect((await put(ndjson([...keep, { ref: "orders/z", value: uuidOf(999, 21) }]))).body).toMatchObject({ removed: 3, nowUnreferenced: 3 });
    now = new Date("2026-04-13T00:00:00Z");

    const all = await api.json<Page<{ uuid: string; referenced: boolean; unreferencedSince: string }>>(`/v1/files?project=${P}&referenced=false&limit=100`, { role: "viewer" });
    expect(all.status).toBe(200);
    expect(all.body.data.map((f) => f.uuid).sort()).toEqual([...uuids.slice(0, 3), ...uuids.slice(30)].sort());
    expect(all.body.total).toBe(13);
    // 12 days unreferenced: the never-referenced ones (since the first report, 2026-04-01), not the 3 dropped on 04-11.
    const old = await api.json<Page<{ uuid: string }>>(`/v1/files?project=${P}&unreferenced_for_days=10`, { role: "viewer" });
    expect(old.body.data.map((f) => f.uuid).sort()).toEqual(uuids.slice(30).sort());
    const same = await api.json<Page<{ uuid: string }>>(`/v1/files?project=${P}&unreferencedForDays=10`, { role: "viewer" });
    expect(same.body.data).toEqual(old.body.data);
    const referenced = await api.json<Page<{ uuid: string }>>(`/v1/files?project=${P}&referenced=true&limit=100`, { role: "viewer" });
    expect(referenced.body.data.map((f) => f.uuid).sort()).toEqual(uuids.slice(3, 30).sort());
    // The other project has no source: nothing is known there, so nothing is unreferenced.
    const q = await api.json<Page<{ referenced: boolean | null }>>(`/v1/files?project=${Q}`, { role: "viewer" });
    expect(q.body.data.map((f) => f.referenced)).toEqual([null]);
    expect((await api.json<Page<unknown>>(`/v1/files?project=${Q}&referenced=false`, { role: "viewer" })).body.total).toBe(0);

    const csv = await api.call(`/v1/files?project=${P}&referenced=false&format=csv`, { role: "viewer" });
    expect((await csv.text()).split("\r\n")[0]).toMatch(/,referenced,unreferenced_since$/);
  });

  it("refuses a replacement dropping too much with 409, changing nothing, unless forced", async () => {
    const before = await api.json<Page<unknown>>(`/v1/files?project=${P}&referenced=true`, { role: "viewer" });
    const half = uuids.slice(3, 16).map((uuid, i) => ({ ref: `orders/${i + 3}`, value: uuid }));
    const refused = await put(ndjson(half));
    expect(refused.status).toBe(409);
    expect((refused.body as unknown as ErrorBody).error.message).toMatch(
      /^refused: the new set of app-db drops 15 of its 28 references \(53\.6%\), more than the 10% allowed; nothing changed/,
    );
    expect((await api.json<Page<unknown>>(`/v1/files?project=${P}&referenced=true`, { role: "viewer" })).body.total).toBe(before.body.total);

    const snapshots = await api.json<Page<{ status: string; removed: number; forced: boolean }>>(`/v1/references/app-db/snapshots?project=${P}`, { role: "viewer" });
    expect(snapshots.status).toBe(200);
    expect(snapshots.body.data.map((s) => [s.status, s.removed])).toEqual([
      ["refused", 15],
      ["applied", 3],
      ["applied", 0],
    ]);

    const forced = await put(ndjson(half), `project=${P}&force=true`);
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ removed: 15, forced: true });
  });

  it("adds and removes single references", async () => {
    const add = await api.json<Record<string, unknown>>(`/v1/references/cms?project=${P}`, {
      method: "POST",
      role: "operator",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ref: "pages/home", value: `https://cdn.example.com/${uuids[39]}/-/scale_crop/300x300/` }),
    });
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({ source: "cms", uuid: uuids[39], changed: 1, size: 1, reason: null });
    expect((await api.json<Record<string, unknown>>(`/v1/files/${uuids[39]}/references`, { role: "viewer" })).body).toMatchObject({ referenced: true });

    const again = await api.json<Record<string, unknown>>(`/v1/references/cms?project=${P}`, {
      method: "POST",
      role: "operator",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ref: "pages/about", value: "not a file" }),
    });
    expect(again.body).toMatchObject({ uuid: null, changed: 0, reason: "not a UUID or a CDN URL" });

    now = new Date("2026-04-14T00:00:00Z");
    const removed = await api.json<Record<string, unknown>>(`/v1/references/cms?project=${P}`, {
      method: "DELETE",
      role: "operator",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ref: "pages/home" }),
    });
    expect(removed.body).toMatchObject({ uuid: uuids[39], changed: 1, size: 0 });
    const refs = await api.json<Record<string, unknown>>(`/v1/files/${uuids[39]}/references`, { role: "viewer" });
    expect(refs.body).toMatchObject({ referenced: false, unreferencedSince: "2026-04-14T00:00:00.000000Z", lastReferencedAt: "2026-04-14T00:00:00.000000Z", references: [] });
  });

  it("lists sources with their status, including a configured pull source that never ran", async () => {
    const { status, body } = await api.json<Page<{ source: string; kind: string; stale: boolean; registered: boolean; refs: number; lastSnapshot: { status: string } | null }>>(
      `/v1/references?project=${P}`,
      { role: "viewer" },
    );
    expect(status).toBe(200);
    expect(body.data.map((s) => [s.source, s.kind, s.registered, s.stale, s.refs])).toEqual([
      ["app-db", "push", true, false, 13],
      ["cms", "push", true, false, 0],
      ["erp", "pull", false, true, 0],
    ]);
    expect(JSON.stringify(body)).not.toContain("secret");
  });

  it("answers 400 naming the line or parameter, 401, 403, 404 and 409", async () => {
    const bad = await put('{"ref":"a","value":"x"}\n{"ref":"b"}\n');
    expect(bad.status).toBe(400);
    expect((bad.body as unknown as ErrorBody).error.message).toBe("body: line 2: value: Invalid input: expected string, received undefined");
    const notJson = await put('{"ref":"a","value":"x"}\n\n{oops\n');
    expect((notJson.body as unknown as ErrorBody).error.message).toBe("body: line 3: not valid JSON");
    expect((await put("")).status).toBe(400);
    expect((await put(ndjson([{ ref: "a", value: "b" }]), "")).status).toBe(400); // two projects: project is required
    const badName = await api.json<ErrorBody>(`/v1/references/bad%20name?project=${P}`, { method: "PUT", role: "operator", body: "" });
    expect(badName.status).toBe(400);
    expect(badName.body.error.message).toMatch(/^source: /);
    expect((await put(ndjson([{ ref: "a", value: "b" }]), `project=${P}&force=maybe`)).status).toBe(400);
    expect((await put("x", `project=${P}`, null)).status).toBe(401);
    expect((await put("x", `project=${P}`, "viewer")).status).toBe(403);
    expect((await put(ndjson([{ ref: "a", value: "b" }]), "project=nope")).status).toBe(404);
    expect((await api.json(`/v1/references/none/snapshots?project=${P}`, { role: "viewer" })).status).toBe(404);
    expect((await api.json(`/v1/files/${uuidOf(12345, 21)}/references`, { role: "viewer" })).status).toBe(404);
    expect((await api.json(`/v1/files/not-a-uuid/references`, { role: "viewer" })).status).toBe(400);
    expect((await api.json(`/v1/files?referenced=true&unreferencedForDays=3`, { role: "viewer" })).status).toBe(400);
    expect((await api.json<ErrorBody>(`/v1/files?unreferenced_for_days=x`, { role: "viewer" })).body.error.message).toMatch(/^unreferenced_for_days: /);
    const pull = await api.json<ErrorBody>(`/v1/references/erp?project=${P}`, { method: "PUT", role: "operator", body: ndjson([{ ref: "a", value: uuids[0]! }]) });
    expect(pull.status).toBe(409);
    expect(pull.body.error.message).toBe("source erp is a pull source: its set comes from its configured query, not from requests");
  });
});
