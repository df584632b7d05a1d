import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTokenCommand } from "../../src/cli/token.ts";
import { openDatabase } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { createToken, findLiveToken, hashToken, listTokens, revokeToken, rotateToken } from "../../src/db/queries/tokens.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../src/errors.ts";
import { runCli } from "../support/cli.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, type ApiHarness, type ErrorBody } from "./helpers.ts";

const now = () => new Date("2026-03-01T00:00:00Z");
const jsonHeaders = { "Content-Type": "application/json" };

describe.each(backends)("API tokens on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("creates, finds, lists, revokes and rotates tokens through the functions", async () => {
    const created = await createToken(database.db, { name: "fn-one", role: "operator", createdBy: "test", now: now() });
    expect(created).toMatchObject({ name: "fn-one", role: "operator", createdBy: "test", revokedAt: null, createdAt: "2026-03-01T00:00:00.000000Z" });
    expect(await findLiveToken(database.db, created.token)).toEqual({ name: "fn-one", role: "operator" });
    const [row] = await queryRows<{ token_hash: string }>(database.db, sql`select token_hash from api_tokens where name = 'fn-one'`);
    expect(row?.token_hash).toBe(hashToken(created.token));

    await expect(createToken(database.db, { name: "fn-one", role: "viewer", createdBy: "test", now: now() })).rejects.toBeInstanceOf(ConflictError);
    await expect(createToken(database.db, { name: "bad name", role: "viewer", createdBy: "test", now: now() })).rejects.toBeInstanceOf(ValidationError);

    const revoked = await revokeToken(database.db, { name: "fn-one", now: now() });
    expect(revoked.revokedAt).toBe("2026-03-01T00:00:00.000000Z");
    expect(await findLiveToken(database.db, created.token)).toBeNull();
    await expect(revokeToken(database.db, { name: "fn-one", now: now() })).rejects.toBeInstanceOf(NotFoundError);

    // The name is free again; the revoked row stays for the record.
    const again = await createToken(database.db, { name: "fn-one", role: "viewer", createdBy: "test", now: now() });
    const rotated = await rotateToken(database.db, { name: "fn-one", role: "admin", createdBy: "test", now: now() });
    expect(await findLiveToken(database.db, again.token)).toBeNull();
    expect(await findLiveToken(database.db, rotated.token)).toEqual({ name: "fn-one", role: "admin" });
    const live = (await listTokens(database.db, { includeRevoked: false, after: null, limit: 100 })).items.filter((t) => t.name === "fn-one");
    const all = (await listTokens(database.db, { includeRevoked: true, after: null, limit: 100 })).items.filter((t) => t.name === "fn-one");
    expect(live.map((t) => t.role)).toEqual(["admin"]);
    expect(all).toHaveLength(3);
  });

  it("manages tokens over the API: 201 with the token once, 409 on a live name, 404 on revoking an unknown one", async () => {
    const created = await api.json<{ name: string; role: string; token: string; createdBy: string }>("/v1/tokens", {
      method: "POST",
      body: JSON.stringify({ name: "api-made", role: "viewer" }),
      headers: jsonHeaders,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "api-made", role: "viewer", createdBy: expect.stringMatching(/^token:t-admin-/) });
    expect(created.res.headers.get("cache-control")).toBe("no-store");

    const dup = await api.json<ErrorBody>("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "api-made", role: "admin" }), headers: jsonHeaders });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("CONFLICT");

    const list = await api.json<{ data: Record<string, unknown>[] }>("/v1/tokens");
    const entry = list.body.data.find((t) => t["name"] === "api-made");
    expect(entry).toEqual({ name: "api-made", role: "viewer", createdAt: expect.any(String), createdBy: expect.any(String), revokedAt: null });

    const revoked = await api.json<{ revokedAt: string }>("/v1/tokens/api-made", { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await api.json<ErrorBody>("/v1/tokens/api-made", { method: "DELETE" })).status).toBe(404);
    expect((await api.json<{ data: unknown[] }>("/v1/tokens?includeRevoked=true")).body.data.length).toBeGreaterThan(
      (await api.json<{ data: unknown[] }>("/v1/tokens")).body.data.length,
    );
  });

  it.each<[string, RequestInit, string]>([
    ["no body", { method: "POST", headers: jsonHeaders }, "body"],
    ["malformed JSON", { method: "POST", body: "{name:", headers: jsonHeaders }, "body"],
    ["a text body", { method: "POST", body: "name=x", headers: { "Content-Type": "text/plain" } }, "content-type"],
    ["a bad name", { method: "POST", body: JSON.stringify({ name: "no spaces", role: "viewer" }), headers: jsonHeaders }, "name"],
    ["a bad role", { method: "POST", body: JSON.stringify({ name: "ok", role: "root" }), headers: jsonHeaders }, "role"],
    ["an extra field", { method: "POST", body: JSON.stringify({ name: "ok", role: "viewer", token: "mine" }), headers: jsonHeaders }, "token"],
  ])("answers 400 for %s, naming what was wrong", async (_, init, param) => {
    const { status, body } = await api.json<ErrorBody>("/v1/tokens", init);
    expect(status).toBe(400);
    expect(body.error.message).toContain(param);
  });

  it("answers 400 for a malformed name to revoke and for a bad list parameter", async () => {
    expect((await api.json<ErrorBody>("/v1/tokens/%20x", { method: "DELETE" })).body.error.message).toContain("name");
    expect((await api.json<ErrorBody>("/v1/tokens?includeRevoked=1")).body.error.message).toContain("includeRevoked");
  });

  it("runs token create, list and revoke as a command on an open database", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const deps = { db: database.db, now, actor: "cli:tester", io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) } };
    expect(await runTokenCommand(deps, ["create", "--name", "cmd-made", "--role", "admin"])).toBe(0);
    const token = out.join("").trim();
    expect(token).toMatch(/^ucl_/);
    expect(err.join("")).toContain("shown this once");
    expect(await findLiveToken(database.db, token)).toEqual({ name: "cmd-made", role: "admin" });
    out.length = 0;
    expect(await runTokenCommand(deps, ["list"])).toBe(0);
    expect(out.join("")).toMatch(/cmd-made\s+admin\s+created 2026-03-01T00:00:00.000000Z by cli:tester/);
    expect(out.join("")).not.toContain(token);
    expect(await runTokenCommand(deps, ["create", "--name", "cmd-made", "--role", "admin"])).toBe(1);
    expect(await runTokenCommand(deps, ["revoke", "--name", "cmd-made"])).toBe(0);
    expect(await runTokenCommand(deps, ["revoke", "--name", "cmd-made"])).toBe(1);
    expect(err.join("")).toContain("ucledger token: token cmd-made not found");
    out.length = 0;
    expect(await runTokenCommand(deps, ["list", "--all", "--json"])).toBe(0);
    expect(out.map((l) => JSON.parse(l) as { name: string; revokedAt: string | null })).toContainEqual(
      expect.objectContaining({ name: "cmd-made", revokedAt: "2026-03-01T00:00:00.000000Z" }),
    );
    expect(await runTokenCommand(deps, ["create", "--name", "x"])).toBe(2);
    await expect(runTokenCommand(deps, ["create", "--name", "x", "--role", "god"])).rejects.toThrow(/--role/);
  });

  it("works through the real CLI: create prints the token once, to the database the server reads", { timeout: 90_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-token-"));
    const env: Record<string, string> = kind === "postgres" ? { DATABASE_URL: database.url! } : { UCLEDGER_DATA_DIR: dataDir };
    try {
      const created = await runCli(["token", "create", "--name", "cli-made", "--role", "operator"], env);
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      expect(token).toMatch(/^ucl_[A-Za-z0-9_-]{43}$/);

      // Each run opens the database afresh (about 5 s on PGlite): revoke runs in-process on the database the CLI wrote.
      const check = kind === "postgres" ? database : await openDatabase({ dataDir });
      try {
        expect(await findLiveToken(check.db, token)).toEqual({ name: "cli-made", role: "operator" });
        const io = { stdout: () => {}, stderr: () => {} };
        expect(await runTokenCommand({ db: check.db, now, actor: "cli:tester", io }, ["revoke", "--name", "cli-made"])).toBe(0);
        expect(await findLiveToken(check.db, token)).toBeNull();
      } finally {
        if (check !== database) await check.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
