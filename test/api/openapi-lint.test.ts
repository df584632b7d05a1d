import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { DEFAULT_PUBLIC_ROUTES } from "../../src/api/auth.ts";
import { HTTP_METHODS, unnamedOperations, type OpenApiDocument } from "../../src/api/openapi-document.ts";
import { OPERATION_IDS } from "../../src/api/operation-ids.ts";
import { silentLogger } from "../../src/logger.ts";

/**
 * /openapi.json as generators see it, checked by an independent linter
 * (Redocly CLI, recommended rules, redocly.yaml) and by what the document
 * promises: readable stable operationIds, explicit `security: []` on the public
 * routes, a 4xx on every operation that takes input or a token.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** They take no input and no token: nothing to answer 4xx to (the reason redocly.yaml turns operation-4xx-response off). */
const NO_4XX = ["GET /healthz", "GET /openapi.json", "GET /docs"];

type Operation = { method: string; path: string; op: Record<string, unknown> };

function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((method) => ({ method: method.toUpperCase(), path, op: item[method]! })),
  );
}

describe("/openapi.json", () => {
  let doc: OpenApiDocument;
  let dir: string;
  beforeAll(async () => {
    // The document is built from the route contracts alone: no database is touched.
    const app = createApp({
      database: { db: {} as never, kind: "pglite" },
      logger: silentLogger,
      version: "lint",
      projects: [],
      accessLog: { record() {}, async flush() {} },
    });
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApiDocument;
    dir = mkdtempSync(join(tmpdir(), "ucledger-openapi-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes Redocly's recommended rules with no error and no warning", () => {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const run = spawnSync(join(ROOT, "node_modules/.bin/redocly"), ["lint", file, "--config", join(ROOT, "redocly.yaml"), "--format=json"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    });
    expect(run.stdout, run.stderr).toMatch(/"totals"/);
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
    expect(run.status).toBe(0);
  });

  it("names every operation from the map (or the route), uniquely, in camelCase", () => {
    expect(unnamedOperations(doc), "add these to OPERATION_IDS in src/api/operation-ids.ts").toEqual([]);
    const ops = operationsOf(doc);
    const ids = ops.map(({ op }) => op["operationId"] as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    const byRoute = Object.fromEntries(ops.map(({ method, path, op }) => [`${method} ${path}`, op["operationId"]]));
    expect(byRoute["GET /v1/files"]).toBe("listFiles");
    expect(byRoute["GET /v1/files/{uuid}"]).toBe("getFile");
    expect(byRoute["POST /v1/plans/{id}/approve"]).toBe("approvePlan");
    // Every mapped id that is in the document is used as mapped (a route's own operationId may differ).
    for (const [route, id] of Object.entries(byRoute)) if (OPERATION_IDS[route]) expect([id, route]).toEqual([OPERATION_IDS[route], route]);
  });

  it("marks exactly the routes that need no token with security: [], and asks a bearer token everywhere else", () => {
    const ops = operationsOf(doc);
    const publicOps = ops.filter(({ op }) => Array.isArray(op["security"]) && (op["security"] as unknown[]).length === 0).map(({ method, path }) => `${method} ${path}`);
    expect(publicOps.sort()).toEqual(["GET /docs", "GET /healthz", "GET /openapi.json", "POST /v1/webhooks/uploadcare"]);
    for (const route of publicOps) expect(DEFAULT_PUBLIC_ROUTES).toContain(route);
    for (const { method, path, op } of ops) {
      if (publicOps.includes(`${method} ${path}`)) continue;
      expect([`${method} ${path}`, op["security"]]).toEqual([`${method} ${path}`, [{ bearerAuth: [] }]]);
    }
    expect((doc as Record<string, unknown>)["security"]).toEqual([{ bearerAuth: [] }]);
  });

  it("documents a 4xx on every operation that takes input or a token", () => {
    for (const { method, path, op } of operationsOf(doc)) {
      const statuses = Object.keys(op["responses"] as Record<string, unknown>);
      const has4xx = statuses.some((s) => /^4(\d\d|XX)$/.test(s));
      expect([`${method} ${path}`, has4xx]).toEqual([`${method} ${path}`, !NO_4XX.includes(`${method} ${path}`)]);
    }
  });

  it("names a server and the licence", () => {
    expect((doc as Record<string, unknown>)["servers"]).toEqual([{ url: "/", description: expect.any(String) }]);
    expect(doc.info?.["license"]).toEqual({ name: "MIT", identifier: "MIT" });
  });
});
