import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessLog } from "../../src/api/access-log.ts";
import { DASHBOARD_ROUTES, DEFAULT_PUBLIC_ROUTES } from "../../src/api/auth.ts";
import { queryRows } from "../../src/db/query.ts";
import { hashToken } from "../../src/db/queries/tokens.ts";
import { TOKEN_ROLES, type TokenRole } from "../../src/db/schema/index.ts";
import { createLogger } from "../../src/logger.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, type ApiHarness, type ErrorBody } from "./helpers.ts";

interface Operation {
  method: string;
  path: string;
  role: TokenRole | undefined;
}

/** Every operation of the document, with the role its `x-role` asks for (none: public). */
async function operations(api: ApiHarness): Promise<Operation[]> {
  const doc = (await (await api.call("/openapi.json", { role: null })).json()) as { paths: Record<string, Record<string, { "x-role"?: TokenRole }>> };
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, role: op["x-role"] })));
}

/** A concrete URL for a templated path: valid-looking values, so only the token decides. */
const concrete = (path: string) =>
  path.replace("{uuid}", "22240276-2f06-41f8-9411-755c8ce926ed").replace("{stream}", "files").replace("{name}", "someone");

describe.each(backends)("authentication and roles on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  const logLines: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const logger = createLogger("trace", { destination: { write: (line: string) => void logLines.push(line) } });
    api = await apiHarness(database, { logger, accessLog: createAccessLog({ db: database.db, logger }) });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("documents every route with a role, except the public list", async () => {
    const ops = await operations(api);
    expect(ops.length).toBeGreaterThanOrEqual(18);
    const open = ops.filter((o) => !o.role).map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(open.sort()).toEqual(DEFAULT_PUBLIC_ROUTES.filter((r) => r !== "GET /metrics" && !DASHBOARD_ROUTES.includes(r)).sort());
  });

  it("answers 401 with WWW-Authenticate and the envelope on every protected route without a token", async () => {
    for (const op of (await operations(api)).filter((o) => o.role)) {
      const res = await api.call(concrete(op.path), { method: op.method.toUpperCase(), role: null });
      expect(res.status, `${op.method} ${op.path}`).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="ucledger"');
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toEqual({ code: "UNAUTHORIZED", message: expect.stringMatching(/^Authorization: /), requestId: res.headers.get("x-request-id") });
    }
  });

  it.each([
    ["a malformed header", "Token abc"],
    ["an unknown token", `Bearer ucl_${"x".repeat(43)}`],
    ["a token of the wrong shape", "Bearer ünïcode"],
    ["an empty bearer", "Bearer "],
  ])("answers 401 for %s", async (_, header) => {
    const res = await api.call("/v1/files", { headers: { Authorization: header }, role: null });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe("UNAUTHORIZED");
  });

  it("answers 403 on every route to a role below the one it needs", async () => {
    let checked = 0;
    for (const op of await operations(api)) {
      if (!op.role) continue;
      for (const role of TOKEN_ROLES.slice(0, TOKEN_ROLES.indexOf(op.role))) {
        const res = await api.call(concrete(op.path), { method: op.method.toUpperCase(), role });
        expect(res.status, `${role} ${op.method} ${op.path}`).toBe(403);
        expect(((await res.json()) as ErrorBody).error.message).toContain(`needs ${op.role}`);
        checked += 1;
      }
    }
    // Operator routes refuse viewers; admin routes refuse both.
    expect(checked).toBeGreaterThanOrEqual(9);
  });

  it("reaches the public routes without a token", async () => {
    expect((await api.call("/healthz", { role: null })).status).toBe(200);
    expect((await api.call("/openapi.json", { role: null })).status).toBe(200);
    expect((await api.call("/docs", { role: null })).status).toBe(200);
    // The webhook receiver answers on its own terms (401 for a missing signature), not for want of a bearer token.
    const hook = await api.call("/v1/webhooks/uploadcare", { method: "POST", role: null, body: "{}", headers: { "Content-Type": "application/json" } });
    expect(((await hook.json()) as ErrorBody).error.message).toContain("X-Uc-Signature");
  });

  it("stops accepting a token the moment it is revoked", async () => {
    const created = await api.json<{ token: string }>("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "short-lived", role: "viewer" }), headers: { "Content-Type": "application/json" } });
    expect(created.status).toBe(201);
    const bearer = { Authorization: `Bearer ${created.body.token}` };
    expect((await api.call("/v1/projects", { headers: bearer, role: null })).status).toBe(200);
    expect((await api.call("/v1/tokens/short-lived", { method: "DELETE" })).status).toBe(200);
    expect((await api.call("/v1/projects", { headers: bearer, role: null })).status).toBe(401);
  });

  it("records every protected request in the access log: token, route pattern, method, status, duration", async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    await api.call("/v1/files/22240276-2f06-41f8-9411-755c8ce926ed", { role: "viewer" });
    await api.call("/v1/files?limit=nope", { role: "operator" });
    await api.call("/v1/events", { role: null });
    await api.call("/healthz", { role: null });
    await api.accessLog.flush();
    const rows = await queryRows<{ token_name: string | null; route: string | null; method: string; status: number; duration_ms: number }>(
      database.db,
      sql`select token_name, route, method, status, duration_ms from api_access_log where requested_at >= ${before}::timestamptz order by requested_at, id`,
    );
    const summary = rows.map((r) => [r.token_name?.replace(/-\d+-\d+$/, ""), r.route, r.method, r.status]);
    expect(summary).toContainEqual(["t-viewer", "/v1/files/{uuid}", "GET", 404]);
    expect(summary).toContainEqual(["t-operator", "/v1/files", "GET", 400]);
    expect(summary).toContainEqual([undefined, "/v1/events", "GET", 401]);
    expect(rows.some((r) => r.route === "/healthz")).toBe(false);
    expect(rows.every((r) => Number.isInteger(r.duration_ms) && r.duration_ms >= 0)).toBe(true);

    // Admins read the log through the API as well.
    const listed = await api.json<{ data: { route: string | null }[] }>("/v1/access-log?limit=500");
    expect(listed.body.data.some((r) => r.route === "/v1/files/{uuid}")).toBe(true);
  });

  it("never writes a token to the logs, the database or a later response", async () => {
    const created = await api.json<{ token: string }>("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "secretive", role: "admin" }), headers: { "Content-Type": "application/json" } });
    const token = created.body.token;
    expect(token).toMatch(/^ucl_[A-Za-z0-9_-]{43}$/);
    const bearer = { Authorization: `Bearer ${token}` };
    const responses = [
      await api.call("/v1/tokens?includeRevoked=true", { headers: bearer, role: null }),
      await api.call("/v1/tokens?format=csv", { headers: bearer, role: null }),
      await api.call("/v1/files?limit=bad", { headers: bearer, role: null }),
      await api.call("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "secretive", role: "admin" }), headers: { ...bearer, "Content-Type": "application/json" }, role: null }),
      await api.call("/v1/access-log", { headers: bearer, role: null }),
    ];
    for (const res of responses) expect(await res.text()).not.toContain(token);
    await api.accessLog.flush();
    const stored = await queryRows<{ row: string }>(database.db, sql`select row_to_json(t)::text as row from api_tokens t`);
    expect(stored.some((r) => r.row.includes(token))).toBe(false);
    expect(stored.some((r) => r.row.includes(hashToken(token)))).toBe(true);
    expect(logLines.some((line) => line.includes(token))).toBe(false);
  });

  it("carries X-Request-Id on every answer, errors included", async () => {
    for (const [path, role] of [["/v1/files", "viewer"], ["/v1/files", null], ["/nope", "admin"], ["/v1/tokens", "viewer"]] as const) {
      const res = await api.call(path, { role });
      expect(res.headers.get("x-request-id"), path).toMatch(/^req_[0-9a-f-]{36}$/);
    }
  });

  it("refuses bodies over the limit with 413 and the envelope", async () => {
    const big = JSON.stringify({ name: "x", role: "viewer", pad: "a".repeat(70_000) });
    const res = await api.call("/v1/tokens", { method: "POST", body: big, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});
