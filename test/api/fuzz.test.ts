import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncRunner } from "../../src/api/sync-runner.ts";
import { silentLogger } from "../../src/logger.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, appendTo, event, insertFiles, uuidOf, type ApiHarness } from "./helpers.ts";

/** mulberry32: small, seeded, the same sequence on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const NASTY = [
  "",
  " ",
  "true",
  "false",
  "0",
  "-1",
  "1.5",
  "1e309",
  "9".repeat(40),
  "NaN",
  "null",
  "[]",
  "{}",
  "%00",
  "a%00b",
  "\u0000",
  "x\u0000y",
  "%FF%FE",
  "%E0%A4%A",
  "%",
  "ünïcødé ✓ 😀",
  "\u202e\u0301",
  "'; drop table files; --",
  "../../etc/passwd",
  "x".repeat(5000),
  "2024-02-30T00:00:00Z",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999Z",
  "2024-05-01T12:00:00+14:00",
  "2024-05-01",
  "99999-01-01",
  "5xx",
  "none",
  "429,5xx",
  "image/",
  "image/*",
  "source=web",
  "=x",
  "a,b,,c",
  "uploaded",
  "size",
  "asc",
  "desc",
  "errors_first",
  "exact",
  "none",
  "csv",
  "ndjson",
  "json",
  "files",
  "usage",
  uuidOf(1, 3),
  "eyJzIjoiZmlsZXM6dXBsb2FkZWQ6ZGVzYyIsImwiOlsiMjAyNC0wMS0wMVQwMDowMDowMFoiXSwicCI6IngiLCJ0IjoieCJ9",
  Buffer.from(JSON.stringify({ s: "files:uploaded:desc", l: ["not a time"], p: "p", t: "u" })).toString("base64url"),
  Buffer.from(JSON.stringify({ s: "files:uploaded:desc", l: [1e300], p: 5, t: null })).toString("base64url"),
  Buffer.from("null").toString("base64url"),
];

const BODIES = [
  "",
  "{",
  "null",
  "[]",
  "1",
  '"str"',
  "{}",
  '{"name":"fz","role":"viewer"}',
  '{"name":"x y","role":"god"}',
  '{"name":null}',
  '{"project":"fuzz-p","full":true}',
  '{"project":123,"full":"yes"}',
  '{"full":false,"extra":1}',
  '{"__proto__":{"admin":true}}',
  JSON.stringify({ name: "a".repeat(100_000) }),
  "\u0000\u0001\u0002",
  "ts=1&status=500",
  '{"ts":"2024-01-01T00:00:00Z","method":"GET","path":"/files/","status":200,"duration_ms":5}\n{bad',
];

const ACCEPTS = ["text/csv", "application/x-ndjson", "*/*", "application/json", "text/*;q=0.1, */*;q=0", "garbage/////", "text/html", ""];
const CONTENT_TYPES = ["application/json", "text/plain", "application/x-ndjson", "multipart/form-data; boundary=x", "application/json; charset=latin1", "", "application/x-www-form-urlencoded"];

interface Param {
  name: string;
  in: string;
  schema: { type?: string | string[]; format?: string; enum?: string[]; maximum?: number };
}

interface Operation {
  method: string;
  path: string;
  params: Param[];
}

/** A value the parameter accepts, so that one mutated neighbour is what gets tested. */
function validValue(p: Param, rand: ReturnType<typeof prng>): string {
  if (p.schema.enum?.length) return rand.pick(p.schema.enum);
  if (p.schema.type === "boolean") return rand.pick(["true", "false"]);
  if (p.schema.type === "integer") return String(1 + rand.int(Math.min(p.schema.maximum ?? 1000, 1000)));
  if (p.schema.format === "date-time") return rand.pick(["2024-01-01T00:00:00Z", "2023-06-01T12:00:00.123456Z"]);
  if (p.schema.format === "date") return rand.pick(["2024-01-01", "2023-12-31"]);
  if (p.schema.format === "uuid") return uuidOf(1, 3);
  const byName: Record<string, string[]> = {
    project: ["fuzz-p", "fuzz-q"],
    metadata: ["source=web", "a=b"],
    mime: ["image/", "image/png"],
    status: ["5xx", "404", "none"],
    path: ["/files/*", "/files/"],
    name: ["fz", "t-admin"],
    stream: ["files", "usage"],
    kind: ["uploaded", "stored,removed"],
    source: ["sync", "webhook"],
    token: ["fz"],
  };
  return rand.pick(byName[p.name] ?? ["x", "fuzz"]);
}

const REQUESTS_PER_OPERATION = 100;

describe.each(backends)("fuzzing every route on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(database.db, [
      { projectKey: "fuzz-p", uuid: uuidOf(1, 3), uploaded: "2024-01-01T00:00:00Z", metadata: { source: "web" } },
      { projectKey: "fuzz-q", uuid: uuidOf(1, 3), uploaded: "2024-01-02T00:00:00Z" },
    ]);
    await appendTo(database.db, "fuzz-p", [event(uuidOf(1, 3))]);
    const sync = createSyncRunner({ projects: ["fuzz-p"], logger: silentLogger, streams: { files: async () => {} } });
    // The access log has its own tests; here its writes would only slow thousands of requests down.
    const accessLog = { record: () => {}, flush: async () => {} };
    api = await apiHarness(database, { sync, accessLog, projects: [{ publicKey: "fuzz-p", webhookSecret: "s3cret" }] });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("answers thousands of malformed requests without a single 5xx", { timeout: 120_000 }, async () => {
    const doc = (await (await api.call("/openapi.json", { role: null })).json()) as {
      paths: Record<string, Record<string, { parameters?: Param[] }>>;
    };
    const ops: Operation[] = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? []).map((p) => ({ name: p.name, in: p.in, schema: p.schema ?? {} })),
      })),
    );
    expect(ops.length).toBeGreaterThanOrEqual(18);

    const rand = prng(0x75636c65);
    const failures: string[] = [];
    let sent = 0;
    for (const op of ops) {
      for (let i = 0; i < REQUESTS_PER_OPERATION; i++) {
        // Mostly valid requests with one or two parameters spoilt, so the spoilt value reaches the handler.
        const spoilt = new Set(op.params.filter(() => rand.chance(1.5 / Math.max(1, op.params.length))).map((p) => p.name));
        const valueOf = (p: Param) => (spoilt.has(p.name) ? rand.pick(NASTY) : validValue(p, rand));
        let path = op.path;
        for (const p of op.params.filter((x) => x.in === "path")) {
          path = path.replace(`{${p.name}}`, () => {
            const v = valueOf(p);
            return rand.chance(0.3) ? v.replaceAll("/", "%2F").replaceAll("?", "%3F").replaceAll("#", "%23") : encodeURIComponent(v);
          });
        }
        const query: string[] = [];
        for (const p of op.params.filter((x) => x.in === "query")) {
          if (!spoilt.has(p.name) && !rand.chance(0.4)) continue;
          const times = rand.chance(0.08) ? 2 : 1;
          for (let t = 0; t < times; t++) {
            const v = valueOf(p);
            query.push(`${p.name}=${rand.chance(0.25) ? v.replaceAll("&", "%26").replaceAll("#", "%23") : encodeURIComponent(v)}`);
          }
        }
        if (rand.chance(0.1)) query.push(`${encodeURIComponent(rand.pick(NASTY))}=${encodeURIComponent(rand.pick(NASTY))}`);
        if (query.length > 0) path += `?${query.join("&")}`;

        const headers: Record<string, string> = {};
        const auth = rand.next();
        headers["Authorization"] = auth < 0.85 ? `Bearer ${api.tokens.admin}` : auth < 0.9 ? `Bearer ${api.tokens.viewer}` : auth < 0.95 ? "Bearer x" : "Basic Zm9vOmJhcg==";
        const accept = rand.pick(ACCEPTS);
        if (accept) headers["Accept"] = accept;
        let body: string | undefined;
        if (op.method !== "GET" && rand.chance(0.9)) {
          body = rand.pick(BODIES);
          const type = rand.pick(CONTENT_TYPES);
          if (type) headers["Content-Type"] = type;
        }
        if (rand.chance(0.05)) headers["X-Uc-Signature"] = `v1=${"0".repeat(64)}`;

        let res: Response;
        try {
          res = await api.app.request(path, { method: op.method, headers, body });
        } catch (err) {
          failures.push(`${op.method} ${path}: threw ${(err as Error).message}`);
          continue;
        }
        await res.text();
        sent += 1;
        if (res.status >= 500 || !res.headers.get("x-request-id")) failures.push(`${op.method} ${path} [${body?.slice(0, 40)}] -> ${res.status}`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(ops.length * REQUESTS_PER_OPERATION);
  });
});
