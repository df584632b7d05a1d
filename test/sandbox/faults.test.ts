import { isRestClientError, listOfFiles, storeFiles } from "@uploadcare/rest-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { authSchemes, control, raw, sdkSettings } from "./helpers.ts";

let sb: Sandbox;
const settings = () => sdkSettings(sb, authSchemes(sb)[1][1]);

beforeAll(async () => {
  sb = await startSandbox({ files: 300, seed: 9 });
});

afterEach(() => control(sb, "DELETE", "/faults"));
afterAll(() => sb.close());

describe("fault injection", () => {
  it("answers 429 with Retry-After and DRF's detail", async () => {
    await control(sb, "PUT", "/faults", { throttle_next: 1, retry_after_s: 1 });
    const res = await raw(sb, "/files/?limit=1");
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.json()).toEqual({ detail: "Request was throttled. Expected available in 1 second." });
    expect((await raw(sb, "/files/?limit=1")).status).toBe(200);
  });

  it("lets the SDK retry through 429s, waiting Retry-After each time", async () => {
    await control(sb, "PUT", "/faults", { throttle_next: 2, retry_after_s: 1 });
    const since = sb.requests().at(-1)?.seq ?? 0;
    const started = Date.now();
    const page = await listOfFiles({ limit: 3 }, settings());
    expect(page.results).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(sb.requests(since).map((r) => [r.status, r.fault])).toEqual([
      [429, "throttle"],
      [429, "throttle"],
      [200, null],
    ]);
  });

  it("cuts a 200 body off mid-JSON so the client really gets invalid JSON", async () => {
    const full = await raw(sb, "/files/?limit=20");
    await control(sb, "PUT", "/faults", { truncate_next: 1 });
    const res = await fetch(`${sb.url}/files/?limit=20`, {
      headers: { Accept: "application/vnd.uploadcare-v0.7+json", Authorization: `Uploadcare.Simple ${sb.publicKey}:${sb.secretKey}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(full.text.length);
    expect(full.text.startsWith(text)).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
    await control(sb, "PUT", "/faults", { truncate_next: 1 });
    await expect(listOfFiles({ limit: 20 }, settings())).rejects.toThrow(/json/i);
  });

  it("answers injected 5xx with nginx/Django bodies", async () => {
    await control(sb, "PUT", "/faults", { error_next: 1, error_status: 502 });
    const res = await raw(sb, "/files/?limit=1");
    expect(res.status).toBe(502);
    expect(res.headers["content-type"]).toBe("text/html");
    expect(res.text).toContain("502 Bad Gateway");
    await control(sb, "PUT", "/faults", { error_next: 1, error_status: 500 });
    try {
      await storeFiles({ uuids: ["21975c81-7f57-4c7a-aef9-acfe28779f78"] }, settings());
      throw new Error("expected a 500");
    } catch (e) {
      expect(isRestClientError(e) && e.status).toBe(500);
    }
    await control(sb, "PUT", "/faults", { error_rate: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) statuses.add((await raw(sb, "/files/?limit=1")).status);
    expect([...statuses].every((s) => [500, 502, 503].includes(s))).toBe(true);
  });

  it("never applies faults to the control API", async () => {
    await control(sb, "PUT", "/faults", { error_rate: 1, throttle_rate: 1, latency_ms: 300 });
    const started = Date.now();
    const info = await control(sb, "GET", "/");
    expect(info.publicKey).toBe(sb.publicKey);
    expect(Date.now() - started).toBeLessThan(250);
    expect(await control(sb, "GET", "/faults")).toMatchObject({ error_rate: 1, throttle_rate: 1, latency_ms: 300 });
  });

  it("adds latency", async () => {
    await control(sb, "PUT", "/faults", { latency_ms: 150 });
    const started = Date.now();
    expect((await raw(sb, "/files/?limit=1")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("validates fault settings", async () => {
    for (const body of [{ error_rate: 2 }, { nope: 1 }, { retry_after_s: -1 }, { error_status: 404 }]) {
      const res = await fetch(`${sb.url}/__sandbox/faults`, { method: "PUT", body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("throttles the Project API with its own error shape", async () => {
    await control(sb, "PUT", "/faults", { throttle_next: 1, retry_after_s: 2 });
    const res = await raw(sb, `/projects/${sb.publicKey}/`, { auth: "bearer", accept: null });
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("2");
    expect(res.json()).toEqual({ message: "Request was throttled. Expected available in 2 seconds.", code: "throttled" });
  });
});

describe("request log", () => {
  it("records what was served, newest last, incrementally, and can be cleared", async () => {
    await control(sb, "DELETE", "/requests");
    const start = (await control(sb, "GET", "/requests")).last_seq;
    await raw(sb, "/files/?limit=2&stored=true");
    const uuids = ["21975c81-7f57-4c7a-aef9-acfe28779f78", "bad"];
    await raw(sb, "/files/storage/", { method: "PUT", body: uuids });
    await raw(sb, "/files/", { auth: "simple", secretKey: "wrong" });
    await control(sb, "GET", "/faults");
    const { requests } = await control(sb, "GET", `/requests?since=${start}`);
    expect(requests).toHaveLength(3);
    expect(requests[0]).toMatchObject({ method: "GET", path: "/files/", query: { limit: "2", stored: "true" }, status: 200, key: sb.publicKey, body: null, api: "rest" });
    expect(requests[0].duration_ms).toEqual(expect.any(Number));
    expect(requests[1]).toMatchObject({ method: "PUT", path: "/files/storage/", body: uuids, status: 200 });
    expect(requests[2]).toMatchObject({ status: 401, key: sb.publicKey });
    const later = await control(sb, "GET", `/requests?since=${requests[1].seq}`);
    expect(later.requests.map((r: { seq: number }) => r.seq)).toEqual([requests[2].seq]);
    await control(sb, "DELETE", "/requests");
    expect((await control(sb, "GET", "/requests")).requests).toEqual([]);
  });
});
