import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessPlanLock } from "../../src/decisions/lock.ts";
import { apiHarness, type ApiHarness, type ErrorBody } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { scene, uploadOld, type Scene } from "./helpers.ts";
import { uploadPngs, versionPolicy } from "./version-helpers.ts";
import { until } from "../support/wait.ts";

interface PlanDetail {
  id: string;
  status: string;
  action: string;
  fileCount: number;
  savings: { files: number; bytesBefore: number; bytesAfter: number; bytesSaved: number } | null;
}

const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

describe.each(backends)("tag and version plans through the API on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 20 });
    api = await apiHarness(database, { decisions: { clientFor: () => s.client, lock: inProcessPlanLock() } });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  const waitForPlan = (id: string): Promise<PlanDetail> =>
    until(`plan ${id} to finish`, async () => {
      const { body } = await api.json<PlanDetail>(`/v1/plans/${id}`, { role: "viewer" });
      return ["applied", "halted"].includes(body.status) ? body : null;
    }, { intervalMs: 25 });

  it("creates, proposes, approves and applies a version plan, and answers its copies and bytes saved", async () => {
    uploadPngs(s.sandbox, 12, "api");
    await s.sync();
    const created = await api.json<{ id: string; action: string; versionSpec: unknown }>("/v1/policies", { ...post(versionPolicy("webp api", "api")), role: "operator" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ action: "version", versionSpec: { operations: "-/format/webp/-/quality/smart/", deleteOriginal: true } });
    const proposed = await api.json<PlanDetail>("/v1/plans", { ...post({ policy: "webp api" }), role: "operator" });
    expect(proposed.status).toBe(201);
    expect(proposed.body.savings).toEqual({ files: 0, bytesBefore: 0, bytesAfter: 0, bytesSaved: 0 });
    expect((await api.call(`/v1/plans/${proposed.body.id}/approve`, { ...post({ reason: "lighter" }), role: "admin" })).status).toBe(200);
    expect((await api.call(`/v1/plans/${proposed.body.id}/apply`, { method: "POST", role: "operator" })).status).toBe(202);
    const applied = await waitForPlan(proposed.body.id);
    expect(applied.status).toBe("applied");
    expect(applied.savings!.files).toBe(12);
    expect(applied.savings!.bytesSaved).toBe(applied.savings!.bytesBefore - applied.savings!.bytesAfter);
    expect(applied.savings!.bytesSaved).toBeGreaterThan(0);
    const items = await api.json<{ data: { copyUuid: string | null; copySize: number | null; size: number }[] }>(`/v1/plans/${proposed.body.id}/items`, { role: "viewer" });
    expect(items.body.data).toHaveLength(12);
    expect(items.body.data.every((i) => /^[0-9a-f-]{36}$/.test(i.copyUuid ?? "") && i.copySize! > 0 && i.copySize! < i.size)).toBe(true);
    const csv = await api.call(`/v1/plans/${proposed.body.id}/items?format=csv`, { role: "viewer" });
    expect((await csv.text()).split("\n")[0]).toContain("copy_uuid,copy_size");

    // Each side of a version names the other in GET /v1/files/{uuid}.
    const item = items.body.data[0]! as { fileUuid?: string; copyUuid: string | null };
    type Versions = { versions: { copies: { copyUuid: string; planId: string }[]; copyOf: { originalUuid: string } | null } };
    const original = await api.json<Versions>(`/v1/files/${item.fileUuid}`, { role: "viewer" });
    expect(original.body.versions.copies.map((v) => [v.copyUuid, v.planId])).toEqual([[item.copyUuid, proposed.body.id]]);
    const copy = await api.json<Versions>(`/v1/files/${item.copyUuid}`, { role: "viewer" });
    expect(copy.body.versions).toMatchObject({ copies: [], copyOf: { originalUuid: item.fileUuid } });
  }, 120_000);

  it("proposes a tag plan and refuses bad tag and version settings with 400 naming them", async () => {
    uploadOld(s.sandbox, 5, { metadata: { api_tag: "yes" } });
    await s.sync();
    const tag = { name: "tag api", action: "tag", conditions: [{ kind: "metadata", key: "api_tag", op: "equals", value: "yes" }], tag: { set: { reviewed: "2025" } } };
    expect((await api.call("/v1/policies", { ...post(tag), role: "operator" })).status).toBe(201);
    const dry = await api.json<{ files: number; action: string }>("/v1/plans", { ...post({ policy: "tag api", dryRun: true }), role: "operator" });
    expect(dry.body).toMatchObject({ files: 5, action: "tag" });

    const refused = async (body: Record<string, unknown>, message: RegExp) => {
      const res = await api.json<ErrorBody>("/v1/policies", { ...post({ name: "bad one", conditions: tag.conditions, ...body }), role: "operator" });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(message);
    };
    await refused({ action: "tag" }, /a tag policy needs tag/);
    await refused({ action: "tag", tag: { set: { "no spaces": "v" } } }, /not a metadata key/);
    await refused({ action: "tag", tag: { set: { k: "" } } }, /must not be empty/);
    await refused({ action: "version", versionSpec: { operations: "format webp" } }, /must be CDN operations/);
    await refused({ action: "delete", tag: { set: { k: "v" } } }, /only a tag policy takes tag/);
  }, 60_000);
});
