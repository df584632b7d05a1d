import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { inProcessPlanLock } from "../../src/decisions/lock.ts";
import { apiHarness, parseCsv, type ApiHarness, type ErrorBody } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles } from "../support/uploadcare.ts";
import { planEvents, scene, uploadOld, type Scene } from "./helpers.ts";
import { until } from "../support/wait.ts";

interface Policy {
  id: string;
  name: string;
  version: number;
  action: string;
  conditions: Record<string, unknown>[];
}
interface PlanDetail {
  id: string;
  status: string;
  fileCount: number;
  excludedCount: number;
  requiredApprovals: number;
  approvals: { required: number; received: { actor: string; reason: string }[]; stillNeeded: number };
  progress: Record<string, { files: number; bytes: number }>;
  excluded: { reason: string; files: number }[];
  lastError: string | null;
}

const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

describe.each(backends)("the decisions API on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  let api: ApiHarness;
  let purge: string[];
  let held: string[];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database);
    purge = uploadOld(s.sandbox, 12, { metadata: { purge_group: "api" } });
    held = uploadOld(s.sandbox, 2, { metadata: { purge_group: "api", ucledger_hold: "true" } });
    await s.sync();
    api = await apiHarness(database, { decisions: { clientFor: () => s.client, lock: inProcessPlanLock() } });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  const waitForPlan = (id: string, statuses: string[]): Promise<PlanDetail> =>
    until(`plan ${id} to reach ${statuses.join("/")}`, async () => {
      const { body } = await api.json<PlanDetail>(`/v1/plans/${id}`, { role: "viewer" });
      return statuses.includes(body.status) ? body : null;
    }, { intervalMs: 25 });

  it("manages policies: templates, create from a template, read, edit (new version), delete", async () => {
    const templates = await api.json<{ data: { id: string }[] }>("/v1/policies/templates", { role: "viewer" });
    expect(templates.status).toBe(200);
    expect(templates.body.data.map((t) => t.id)).toContain("delete-infected");

    const created = await api.json<Policy>("/v1/policies", {
      ...post({ name: "infected", template: "delete-infected" }),
      role: "operator",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "infected", action: "delete", version: 1, createdBy: expect.stringMatching(/^token:t-operator-/) });

    const read = await api.json<Policy>(`/v1/policies/${created.body.id}`, { role: "viewer" });
    expect(read.body.conditions).toEqual([{ kind: "appdata", path: "uc_clamav_virus_scan.data.infected", op: "equals", value: true }]);

    const edited = await api.json<Policy>(`/v1/policies/${created.body.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ description: "scanned by ClamAV" }),
      role: "operator",
    });
    expect(edited.body).toMatchObject({ version: 2, description: "scanned by ClamAV" });

    const duplicate = await api.json<ErrorBody>("/v1/policies", { ...post({ name: "infected", template: "delete-infected" }), role: "operator" });
    expect(duplicate.status).toBe(409);

    const list = await api.json<{ data: Policy[] }>(`/v1/policies?project=${s.sandbox.publicKey}`, { role: "viewer" });
    expect(list.body.data.map((p) => p.name)).toContain("infected");

    expect((await api.call(`/v1/policies/${created.body.id}`, { method: "DELETE", role: "operator" })).status).toBe(200);
    expect((await api.call(`/v1/policies/${created.body.id}`, { role: "viewer" })).status).toBe(404);
  });

  it.each<[string, unknown, string]>([
    ["a condition's bad field", { name: "x", action: "delete", conditions: [{ kind: "size", minBytes: -1 }] }, "conditions #1 → minBytes: must be 0 or more"],
    ["a policy matching every file", { name: "x", action: "delete", conditions: [] }, "conditions: would match every file"],
    ["an unknown action", { name: "x", action: "shred", conditions: [{ kind: "state", in: ["stored"] }] }, "action: must be store, delete, archive, tag or version"],
    ["an archive without target", { name: "x", action: "archive", conditions: [{ kind: "state", in: ["stored"] }] }, "archive: an archive policy needs archive.target"],
    ["a template's bad parameter", { name: "x", template: "delete-unstored-older-than", params: { hours: 0 } }, "params.hours: must be more than 0"],
    ["an unknown project", { project: "nope", name: "x", template: "delete-infected" }, "project nope not found"],
    ["a NUL character Postgres cannot store", { name: "x", template: "delete-infected", description: "a\u0000b" }, "description: must not contain NUL characters"],
  ])("answers 400 (or 404) naming the parameter for %s", async (_name, body, message) => {
    const res = await api.json<ErrorBody>("/v1/policies", { ...post(body), role: "operator" });
    expect([400, 404]).toContain(res.status);
    expect(res.body.error.message).toContain(message);
  });

  it("needs a token (401), an operator to write (403), and answers 404 and 400 for ids", async () => {
    expect((await api.call("/v1/policies", { role: null })).status).toBe(401);
    expect((await api.call("/v1/plans", { role: null })).status).toBe(401);
    const forbidden = await api.json<ErrorBody>("/v1/policies", { ...post({ name: "v", template: "delete-infected" }), role: "viewer" });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("FORBIDDEN");
    expect((await api.call("/v1/plans/00000000-0000-4000-8000-000000000000", { role: "viewer" })).status).toBe(404);
    expect((await api.call("/v1/policies/00000000-0000-4000-8000-000000000000", { role: "viewer" })).status).toBe(404);
    const bad = await api.json<ErrorBody>("/v1/plans/not-a-uuid", { role: "viewer" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe("id: must be a UUID");
    const unknownPolicy = await api.json<ErrorBody>("/v1/plans", { ...post({ policy: "no such policy" }), role: "operator" });
    expect(unknownPolicy.status).toBe(404);
  });

  it("proposes (dry run first), takes two different approvers besides the proposer, refuses viewers, applies in the background and exports the items", async () => {
    const policy = await api.json<Policy>("/v1/policies", {
      ...post({ name: "purge api", action: "delete", conditions: [{ kind: "metadata", key: "purge_group", op: "equals", value: "api" }] }),
      role: "operator",
    });
    expect(policy.status).toBe(201);

    const dry = await api.json<{ files: number; excludedCount: number; sample: unknown[] }>("/v1/plans", { ...post({ policy: "purge api", dryRun: true }), role: "operator" });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ files: 12, excludedCount: 2 });
    expect(dry.body.sample).toHaveLength(10);
    const [{ n: stored }] = (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from plans where policy_id = ${policy.body.id}::uuid`)) as [{ n: number }];
    expect(stored).toBe(0);

    const badOption = await api.json<ErrorBody>("/v1/plans", { ...post({ policy: "purge api", options: { haltFailureRate: 2 } }), role: "operator" });
    expect(badOption.status).toBe(400);
    expect(badOption.body.error.message).toBe("options.haltFailureRate: must be from 0 to 1");

    // Stricter than the deployment: more than 5 files needs two approvers. Proposed by the admin, who then cannot approve it (four eyes).
    const proposed = await api.json<PlanDetail>("/v1/plans", { ...post({ policy: policy.body.id, options: { twoApproversAboveFiles: 5 }, note: "api test" }), role: "admin" });
    expect(proposed.status).toBe(201);
    expect(proposed.body).toMatchObject({ status: "proposed", fileCount: 12, excludedCount: 2, requiredApprovals: 2 });
    expect(proposed.body.excluded).toEqual([{ reason: 'hold: metadata ucledger_hold = "true"', files: 2 }]);
    const id = proposed.body.id;

    expect((await api.call(`/v1/plans/${id}/approve`, { ...post({ reason: "looks right" }), role: "viewer" })).status).toBe(403);
    expect((await api.call(`/v1/plans/${id}/apply`, { method: "POST", role: "viewer" })).status).toBe(403);
    const empty = await api.json<ErrorBody>(`/v1/plans/${id}/approve`, { ...post({ reason: " " }), role: "operator" });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toBe("reason: must not be empty");

    const own = await api.json<ErrorBody>(`/v1/plans/${id}/approve`, { ...post({ reason: "my own plan" }), role: "admin" });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(/proposed plan .* and cannot approve it: it needs 2 approvals from someone other than the proposer/);
    const first = await api.json<PlanDetail>(`/v1/plans/${id}/approve`, { ...post({ reason: "sample checked" }), role: "operator" });
    expect(first.body).toMatchObject({ status: "proposed", approvals: { required: 2, received: [{ actor: expect.stringMatching(/^token:t-operator-/) }], stillNeeded: 1 } });
    const twice = await api.json<ErrorBody>(`/v1/plans/${id}/approve`, { ...post({ reason: "again" }), role: "operator" });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/already approved .* another approval must come from someone else/);
    const early = await api.json<ErrorBody>(`/v1/plans/${id}/apply`, { method: "POST", role: "operator" });
    expect(early.status).toBe(409);
    const reviewer = await createToken(database.db, { name: `api-reviewer-${kind}-${process.pid}`, role: "operator", createdBy: "test", now: new Date() });
    const second = await api.json<PlanDetail>(`/v1/plans/${id}/approve`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${reviewer.token}` },
      body: JSON.stringify({ reason: "second pair of eyes" }),
    });
    expect(second.body.status).toBe("approved");

    const started = await api.json<{ plan: { status: string }; follow: string }>(`/v1/plans/${id}/apply`, { method: "POST", role: "operator" });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ plan: { status: "applying" }, follow: `/v1/plans/${id}` });
    expect(started.res.headers.get("location")).toBe(`/v1/plans/${id}`);
    const finished = await waitForPlan(id, ["applied", "halted"]);
    expect(finished.status).toBe("applied");
    expect(finished.progress["done"]!.files).toBe(12);
    expect(finished.lastError).toBeNull();

    const upstream = await allSandboxFiles(s.sandbox);
    expect(purge.every((u) => upstream.get(u)?.datetime_removed)).toBe(true);
    expect(held.every((u) => upstream.get(u)?.datetime_removed === null)).toBe(true);
    const actions = (await planEvents(database.db, id)).filter((e) => e.file_uuid !== null);
    expect(actions).toHaveLength(12);
    expect(actions.every((e) => e.source === "action" && /^token:t-operator-/.test(e.actor))).toBe(true);

    const csv = await api.call(`/v1/plans/${id}/items?format=csv&status=done,excluded`, { role: "viewer" });
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const rows = parseCsv(await csv.text());
    expect(rows[0]).toEqual(["seq", "file_uuid", "status", "reason", "size", "state", "datetime_uploaded", "mime_type", "original_filename", "evidence", "copy_url", "copy_uuid", "copy_size", "batch", "sent_at", "finished_at"]);
    expect(rows.slice(1).map((r) => r[2]).sort()).toEqual([...Array(12).fill("done"), "excluded", "excluded"].sort());
    const page = await api.json<{ data: { fileUuid: string }[]; nextCursor: string | null; total: number }>(`/v1/plans/${id}/items?limit=5`, { role: "viewer" });
    expect(page.body).toMatchObject({ total: 14 });
    expect(page.body.data).toHaveLength(5);
    const next = await api.json<{ data: { fileUuid: string }[] }>(`/v1/plans/${id}/items?limit=5&cursor=${encodeURIComponent(page.body.nextCursor!)}`, { role: "viewer" });
    expect(next.body.data.map((i) => i.fileUuid)).not.toContain(page.body.data[0]!.fileUuid);
    const badStatus = await api.json<ErrorBody>(`/v1/plans/${id}/items?status=gone`, { role: "viewer" });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.message).toMatch(/^status: must be one of/);

    const again = await api.json<ErrorBody>(`/v1/plans/${id}/apply`, { method: "POST", role: "operator" });
    expect(again.status).toBe(409);
    const listed = await api.json<{ data: { id: string; status: string }[] }>("/v1/plans?status=applied", { role: "viewer" });
    expect(listed.body.data.map((p) => p.id)).toContain(id);
  });

  it("expires a plan nobody approved in time, and then refuses approvals", async () => {
    uploadOld(s.sandbox, 3, { metadata: { purge_group: "late" } });
    await s.sync();
    await api.json("/v1/policies", { ...post({ name: "purge late", action: "delete", conditions: [{ kind: "metadata", key: "purge_group", op: "equals", value: "late" }] }), role: "operator" });
    const proposed = await api.json<PlanDetail>("/v1/plans", { ...post({ policy: "purge late", options: { expiresInHours: 1 } }), role: "operator" });
    expect(proposed.status).toBe(201);
    const later = await apiHarness(database, { now: () => new Date(Date.now() + 2 * 3_600_000) });
    const shown = await later.json<PlanDetail>(`/v1/plans/${proposed.body.id}`, { role: "viewer" });
    expect(shown.body.status).toBe("expired");
    const refused = await later.json<ErrorBody>(`/v1/plans/${proposed.body.id}/approve`, { ...post({ reason: "too late" }), role: "operator" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/is expired/);
    const events = await planEvents(database.db, proposed.body.id);
    expect(events.map((e) => [e.after?.["event"], e.actor])).toEqual([
      ["proposed", expect.stringMatching(/^token:/)],
      ["expired", "ucledger:expiry"],
    ]);
  });

  it("answers 409 to apply when the server has no Uploadcare clients", async () => {
    const bare = await apiHarness(database);
    uploadOld(s.sandbox, 2, { metadata: { purge_group: "bare" } });
    await s.sync();
    await bare.json("/v1/policies", { ...post({ name: "purge bare", action: "delete", conditions: [{ kind: "metadata", key: "purge_group", op: "equals", value: "bare" }] }), role: "operator" });
    const plan = await bare.json<PlanDetail>("/v1/plans", { ...post({ policy: "purge bare" }), role: "operator" });
    // Four eyes: the operator proposed it, so the admin approves.
    await bare.json(`/v1/plans/${plan.body.id}/approve`, { ...post({ reason: "ok" }), role: "admin" });
    const res = await bare.json<ErrorBody>(`/v1/plans/${plan.body.id}/apply`, { method: "POST", role: "operator" });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/cannot apply plans/);
  });
});
