import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardSession } from "../../src/db/queries/dashboard-sessions.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { apiHarness, uuidOf, type ApiHarness } from "../api/helpers.ts";
import { insertQuarantine } from "../api/quarantine-rows.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

/** The overview's sync health: latest runs and the count of quarantined upstream records, linked to the API's list. */
describe.each(backends)("dashboard sync health on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  const P = `health-p-${kind}`;
  const Q = `health-q-${kind}`;
  /** A GET carries the session cookie: a signed-in viewer's session id. */
  let cookie = "";
  const page = async (path: string) => {
    const res = await api.app.request(path, { headers: { cookie } });
    expect(res.status, path).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database);
    const session = await createDashboardSession(database.db, { token: api.tokens.viewer, now: new Date(), ttlMs: 3_600_000 });
    cookie = `ucledger_session=${session!.id}`;
    await registerProjects(database.db, [
      { projectKey: P, name: "with quarantine", isDemo: false },
      { projectKey: Q, name: "clean", isDemo: false },
    ]);
    await insertQuarantine(database.db, [
      { projectKey: P, raw: `{"uuid":"${uuidOf(1, 71)}","original_filename":"a\\u0000b"}`, fileUuid: uuidOf(1, 71), disposition: "stored_escaped", lastSeenAt: "2026-03-01T00:00:00Z" },
      { projectKey: P, raw: '{"size":"big"}', lastSeenAt: "2026-03-01T00:00:00Z" },
      { projectKey: P, raw: '{"size":"huge"}', source: "webhook", lastSeenAt: "2026-03-02T00:00:00Z" },
    ]);
    await database.db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, finished_at, status)
      values (${P}, gen_random_uuid(), 'files', 'new', '2026-03-02T00:00:00Z', '2026-03-02T00:01:00Z', 'ok'),
             (${Q}, gen_random_uuid(), 'files', 'new', '2026-03-02T00:00:00Z', '2026-03-02T00:01:00Z', 'ok')`);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("shows how many records were set aside and stored with substitutes, linking the API's list", async () => {
    const html = await page(`/dashboard?project=${P}`);
    const section = html.slice(html.indexOf("<h2>Sync health</h2>"), html.indexOf("<h2 data-week"));
    expect(section).toMatch(/Quarantined upstream records: <strong>2<\/strong> set aside \(no file row written\), <strong>1<\/strong>\s*stored with substitutes/);
    const link = `/v1/sync/quarantine?project=${encodeURIComponent(P)}`;
    expect(section).toContain(`href="${link}"`);
    expect(section).toContain(`href="${link}&amp;format=csv"`);
    expect(section).toContain("Sync health by lane");

    // The link works in the browser: the session cookie reads the API.
    const res = await api.app.request(link, { headers: { cookie } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { data: { raw: string }[]; total: number };
    expect(list.total).toBe(3);
    expect(list.data.map((r) => r.raw)).toContain(`{"uuid":"${uuidOf(1, 71)}","original_filename":"a\\u0000b"}`);
  });

  it("says so when nothing was quarantined", async () => {
    const html = await page(`/dashboard?project=${Q}`);
    expect(html).toContain("No upstream record had to be set aside or stored with substitutes.");
    expect(html).not.toContain("Quarantined upstream records");
    expect(html).toContain("Sync health by lane");
  });
});
