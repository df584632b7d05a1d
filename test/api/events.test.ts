import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/db/queries/events.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, appendTo, event, insertFiles, uuidOf, type ApiHarness, type ErrorBody } from "./helpers.ts";

interface Page {
  data: AuditEvent[];
  nextCursor: string | null;
  total: number | null;
}

const P = "events-p";
const Q = "events-q";
const F1 = uuidOf(1, 7);
const F2 = uuidOf(2, 7);

describe.each(backends)("audit API on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(database.db, [
      { projectKey: P, uuid: F1, uploaded: "2026-01-01T00:00:00Z" },
      { projectKey: P, uuid: F2, uploaded: "2026-01-01T00:00:00Z" },
    ]);
    // 30 events in P: one batch of 20 sharing one observed_at (as a synced page does), then 10 more.
    await appendTo(database.db, P, [
      ...Array.from({ length: 20 }, (_, i) => event(i % 2 ? F1 : F2, { kind: i % 3 ? "stored" : "uploaded", observedAt: "2026-01-02T00:00:00.000001Z" })),
      ...Array.from({ length: 10 }, (_, i) =>
        event(F1, { kind: "metadata_changed", source: "webhook", actor: "uploadcare", observedAt: `2026-01-03T00:00:0${i}.5Z` }),
      ),
    ]);
    await appendTo(database.db, Q, [event(null, { kind: "action", source: "action", actor: "cli:alice", observedAt: "2026-01-02T12:00:00Z" })]);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function everything(path: string): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const { status, body }: { status: number; body: Page } = await api.json<Page>(`${path}${sep}limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      expect(status).toBe(200);
      out.push(...body.data);
      cursor = body.nextCursor;
    } while (cursor);
    return out;
  }

  it("pages the whole feed newest first, through a batch of events sharing one timestamp", async () => {
    const feed = await everything("/v1/events");
    expect(feed.map((e) => `${e.projectKey}:${e.seq}`)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `${P}:${30 - i}`),
      `${Q}:1`,
      ...Array.from({ length: 20 }, (_, i) => `${P}:${20 - i}`),
    ]);
    expect(feed[0]).toMatchObject({ kind: "metadata_changed", source: "webhook", actor: "uploadcare", observedAt: "2026-01-03T00:00:09.500000Z" });
    expect(feed.at(-1)!.prevHash).toBe("0".repeat(64));
  });

  it.each([
    ["kind=metadata_changed", 10],
    ["kind=uploaded,stored", 20],
    ["kind=uploaded&kind=action", 8],
    ["source=webhook", 10],
    ["actor=cli:alice", 1],
    ["project=" + Q, 1],
    ["from=2026-01-02T06:00:00Z&to=2026-01-03T00:00:05Z", 6],
  ])("filters the feed by %s", async (query, expected) => {
    const { body } = await api.json<Page>(`/v1/events?${query}`);
    expect(body.data).toHaveLength(expected);
    expect(body.total).toBe(expected);
  });

  it("gives one file's trail oldest first", async () => {
    const trail = await everything(`/v1/files/${F2}/events`);
    expect(trail.map((e) => e.seq)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(trail.every((e) => e.fileUuid === F2 && e.projectKey === P)).toBe(true);
    const newest = await api.json<Page>(`/v1/files/${F1}/events?order=desc&limit=1`);
    expect(newest.body.data[0]!.seq).toBe(30);
    expect(newest.body.total).toBe(20);
  });

  it("verifies every chain, and names the first broken link of a forged one", async () => {
    const clean = await api.json<{ ok: boolean; projects: unknown[] }>("/v1/audit/verify");
    expect(clean.body).toEqual({
      ok: true,
      projects: [
        { projectKey: P, ok: true, events: 30, broken: null },
        { projectKey: Q, ok: true, events: 1, broken: null },
      ],
    });
    // Appending is allowed by the guard; a forged link is not, and the check says where.
    await database.db.execute(sql`insert into file_events (project_key, seq, kind, observed_at, source, actor, prev_hash, hash)
      values (${Q}, 2, 'action', now(), 'action', 'mallory', ${"f".repeat(64)}, ${"0".repeat(64)})`);
    const broken = await api.json<{ ok: boolean; projects: { broken: { seq: number } | null }[] }>(`/v1/audit/verify?project=${Q}`);
    expect(broken.body.ok).toBe(false);
    expect(broken.body.projects[0]!.broken?.seq).toBe(2);
  });

  it.each([
    ["/v1/events?kind=exploded", "kind"],
    ["/v1/events?source=mail", "source"],
    ["/v1/events?from=2026-13-01T00:00:00Z", "from"],
    ["/v1/events?order=sideways", "order"],
    ["/v1/events?count=maybe", "count"],
    ["/v1/files/xyz/events", "uuid"],
    ["/v1/audit/verify?verbose=1", "verbose"],
  ])("answers 400 naming the parameter for %s", async (path, param) => {
    const { status, body } = await api.json<ErrorBody>(path);
    expect(status).toBe(400);
    expect(body.error.message).toContain(param);
  });

  it("answers 404 for an unknown file or project", async () => {
    expect((await api.call(`/v1/files/${uuidOf(99, 7)}/events`)).status).toBe(404);
    expect((await api.call(`/v1/events?project=unknown`)).status).toBe(404);
    expect((await api.call(`/v1/audit/verify?project=unknown`)).status).toBe(404);
  });
});
