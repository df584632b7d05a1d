import { fileInfo, isRestClientError, listOfFiles } from "@uploadcare/rest-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { ACCEPT, authSchemes, raw, sdkSettings } from "./helpers.ts";

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ files: 20, seed: 3 });
});

afterAll(() => sb.close());

async function sdkError(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (e) {
    if (isRestClientError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

const ACCEPT_DETAIL = "Incorrect Accept header provided. Make sure to specify API version. Refer to REST API docs for details.";

describe("REST authentication and negotiation", () => {
  it("accepts both schemes through the SDK", async () => {
    for (const [, schema] of authSchemes(sb)) {
      const page = await listOfFiles({ limit: 5 }, sdkSettings(sb, schema));
      expect(page.results.length).toBe(5);
    }
  });

  it("answers a wrong secret with Uploadcare's 401 texts (both schemes)", async () => {
    const [[, simple], [, signed]] = authSchemes(sb, "0000000000wrongsecret");
    const a = await sdkError(listOfFiles({}, sdkSettings(sb, simple)));
    expect(a.status).toBe(401);
    expect(a.message).toBe("[401 Unauthorized] Incorrect authentication credentials.");
    const b = await sdkError(listOfFiles({}, sdkSettings(sb, signed)));
    expect(b.status).toBe(401);
    expect(b.message).toBe("[401 Unauthorized] Invalid signature. Please check your Secret key.");
  });

  it("names an unknown public key", async () => {
    const res = await raw(sb, "/files/", { headers: {}, auth: "none" });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ detail: "Incorrect authentication credentials." });
    const other = await raw(sb, "/files/", { auth: "none", headers: { Authorization: "Uploadcare.Simple nosuchkey:secret" } });
    expect(other.json()).toEqual({ detail: "Public key nosuchkey not found." });
  });

  it("answers 406 with the exact detail when the v0.7 Accept is missing", async () => {
    for (const accept of [null, "*/*", "application/json", "application/vnd.uploadcare-v0.6+json"]) {
      const res = await raw(sb, "/files/", { accept });
      expect(res.status, String(accept)).toBe(406);
      expect(res.json()).toEqual({ detail: ACCEPT_DETAIL });
    }
    expect((await raw(sb, "/files/", { accept: `application/json, ${ACCEPT}` })).status).toBe(200);
  });

  it("refuses a stale or future date and accepts one within 15 minutes", async () => {
    const at = (minutes: number) => new Date(sb.now().getTime() + minutes * 60_000).toUTCString();
    expect((await raw(sb, "/files/?limit=1", { date: at(-16) })).status).toBe(401);
    expect((await raw(sb, "/files/?limit=1", { date: at(16) })).json()).toEqual({ detail: "Incorrect authentication credentials." });
    expect((await raw(sb, "/files/?limit=1", { date: at(-14) })).status).toBe(200);
    expect((await raw(sb, "/files/?limit=1", { date: "not a date" })).status).toBe(401);
  });

  it("takes the date from Date as well, with pyuploadcare's extra comma", async () => {
    const d = sb.now();
    const pyDate = d.toUTCString().replace(/ (\d\d:\d\d:\d\d)/, ", $1");
    expect(pyDate).toMatch(/^\w{3}, \d\d \w{3} \d{4}, \d\d:\d\d:\d\d GMT$/);
    expect((await raw(sb, "/files/?limit=1", { dateHeader: "Date", date: pyDate })).status).toBe(200);
  });

  it("signs method, body hash, Content-Type as sent, date and raw URI", async () => {
    expect((await raw(sb, "/files/?limit=2", { signUri: "/files/?limit=1" })).status).toBe(401);
    expect((await raw(sb, "/files/?limit=2", { contentType: null })).status).toBe(200);
    expect((await raw(sb, "/files/?limit=2", { signContentType: "text/plain" })).json()).toEqual({
      detail: "Invalid signature. Please check your Secret key.",
    });
    const uri = `/files/?limit=1&from=${encodeURIComponent("2018-11-27T01:00:43.001705+00:00")}`;
    expect((await raw(sb, uri)).status).toBe(200);
  });

  it("uses the sandbox clock, not the machine's, for the date check", async () => {
    const past = await startSandbox({ now: () => new Date("2020-01-01T12:00:00Z") });
    try {
      expect((await raw(past, "/files/", { date: new Date().toUTCString() })).status).toBe(401);
      expect((await raw(past, "/files/", { date: "Wed, 01 Jan 2020 12:05:00 GMT" })).status).toBe(200);
    } finally {
      await past.close();
    }
  });

  it("still accepts a client's real-time date after the sandbox clock was moved forward", async () => {
    const moved = await startSandbox({ files: 5 });
    try {
      moved.advanceClock(25 * 3600);
      const [, schema] = authSchemes(moved)[1];
      expect((await listOfFiles({ limit: 1 }, sdkSettings(moved, schema))).total).toBeGreaterThanOrEqual(0);
      expect((await raw(moved, "/files/", { date: moved.now().toUTCString() })).status).toBe(200);
      const between = new Date(Date.now() + 12 * 3600_000).toUTCString();
      expect((await raw(moved, "/files/", { date: between })).status).toBe(401);
    } finally {
      await moved.close();
    }
  });

  it("can refuse Simple auth over HTTP like Uploadcare", async () => {
    const strict = await startSandbox({ simpleAuthOverHttp: false });
    try {
      const res = await raw(strict, "/files/", { auth: "simple" });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ detail: "Simple authentication over HTTP is forbidden. Please, use HTTPS or signed requests instead." });
      expect((await raw(strict, "/files/", { auth: "signed" })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it("answers with exactly the v0.7 content type, Vary, Allow and a request id", async () => {
    const res = await raw(sb, "/files/?limit=1");
    expect(res.headers["content-type"]).toBe(ACCEPT);
    expect(res.headers["vary"]).toBe("Accept");
    expect(res.headers["allow"]).toBe("GET, HEAD, OPTIONS");
    expect(res.headers["x-uploadcare-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await raw(sb, "/files/8c1b7e70-0000-4000-8000-000000000000/");
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ detail: "Not found." });
    expect(missing.headers["content-type"]).toBe(ACCEPT);
    expect((await raw(sb, "/nowhere/")).json()).toEqual({ detail: "Not found." });
    const notAllowed = await raw(sb, "/files/", { method: "POST", body: {} });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.json()).toEqual({ detail: 'Method "POST" not allowed.' });
  });

  it("serves at the origin root: a path prefix in apiBaseURL is dropped by the SDK and still works", async () => {
    const [, schema] = authSchemes(sb)[1];
    const files = await listOfFiles({ limit: 1 }, { authSchema: schema, apiBaseURL: `${sb.url}/some/prefix/` });
    const info = await fileInfo({ uuid: files.results[0]!.uuid }, { authSchema: schema, apiBaseURL: `${sb.url}/` });
    expect(info.uuid).toBe(files.results[0]!.uuid);
  });
});
