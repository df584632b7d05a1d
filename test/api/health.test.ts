import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness } from "./helpers.ts";

describe.each(backends)("GET /healthz on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("answers ok with the database kind and version, without a token", async () => {
    const app = createApp({ database, logger: silentLogger, version: "9.9.9", projects: [] });
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(await res.json()).toEqual({ status: "ok", database: kind, version: "9.9.9" });
  });

  it("answers unknown routes with the error envelope: 404 with a token, 401 without", async () => {
    const api = await apiHarness(database);
    const res = await api.call("/nope", { role: "viewer" });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe("NOT_FOUND");
    expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
    // Without a token nothing beyond the public routes is revealed, not even which routes exist.
    expect((await api.call("/nope", { role: null })).status).toBe(401);
  });
});
