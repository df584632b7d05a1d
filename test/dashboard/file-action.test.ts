import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { dashboardSession } from "./session-helpers.ts";

/** Issue 18: act on one file from its page, as a one-file plan under the same approval rules. */
const NOW = new Date("2026-11-26T12:00:00Z");
const P = "one-file";
const UNSTORED = uuidOf(1, 77);
const STORED = uuidOf(2, 77);
const REMOVED = uuidOf(3, 77);
const OTHER = uuidOf(4, 77);

describe.each(backends)("acting on one file from its page on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database, { now: () => NOW });
    await registerProjects(database.db, [{ projectKey: P, name: "one file", isDemo: false }]);
    const uploaded = "2026-10-01T10:00:00Z";
    await insertFiles(database.db, [
      { projectKey: P, uuid: UNSTORED, uploaded, size: 1000 },
      { projectKey: P, uuid: STORED, uploaded, size: 2000, stored: uploaded },
      { projectKey: P, uuid: REMOVED, uploaded, size: 3000, removed: "2026-10-02T10:00:00Z" },
      { projectKey: P, uuid: OTHER, uploaded, size: 4000, stored: uploaded },
    ]);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it("offers store and delete as a one-file plan to operators only, never on a removed file", async () => {
    const operator = await dashboardSession(api, "operator");
    const viewer = await dashboardSession(api, "viewer");
    const unstored = await (await operator.get(`/dashboard/files/${P}/${UNSTORED}`)).text();
    expect(unstored).toContain("Propose to store this file");
    expect(unstored).toContain("Propose to delete this file");
    const stored = await (await operator.get(`/dashboard/files/${P}/${STORED}`)).text();
    expect(stored).not.toContain("Propose to store this file");
    expect(stored).toContain("Propose to delete this file");
    expect(await (await operator.get(`/dashboard/files/${P}/${REMOVED}`)).text()).not.toContain("Propose to");
    expect(await (await viewer.get(`/dashboard/files/${P}/${STORED}`)).text()).not.toContain("Propose to");
    // A viewer's POST is refused by the API, whatever the page shows.
    const refused = await viewer.post(`/dashboard/files/${P}/${STORED}/plan`, { action: "delete" });
    expect(await refused.text()).toMatch(/operator/);
  });

  it("proposes a plan holding that file alone, which its proposer cannot approve", async () => {
    const operator = await dashboardSession(api, "operator");
    const res = await operator.post(`/dashboard/files/${P}/${STORED}/plan`, { action: "delete" });
    expect(res.status).toBe(303);
    const id = /\/dashboard\/plans\/([0-9a-f-]{36})/.exec(res.headers.get("location") ?? "")![1]!;
    const plan = await api.json<{ action: string; status: string; fileCount: number }>(`/v1/plans/${id}`, { role: "viewer" });
    expect(plan.body).toMatchObject({ action: "delete", status: "proposed", fileCount: 1 });
    const items = await api.json<{ data: { fileUuid: string }[] }>(`/v1/plans/${id}/items`, { role: "viewer" });
    expect(items.body.data.map((i) => i.fileUuid)).toEqual([STORED]);
    // The plan page says in words what it holds.
    expect(await (await operator.get(`/dashboard/plans/${id}`)).text()).toContain(`the file ${STORED}`);
    // Four eyes: the proposer's own approval is refused.
    const own = await api.json<{ error: { message: string } }>(`/v1/plans/${id}/approve`, { method: "POST", role: "operator", body: JSON.stringify({ reason: "mine" }), headers: { "content-type": "application/json" } });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(/propos/);
  });

  it("refuses a bad action in users' words", async () => {
    const operator = await dashboardSession(api, "operator");
    const res = await operator.post(`/dashboard/files/${P}/${STORED}/plan`, { action: "archive-everything" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("action: must be store or delete");
  });
});
