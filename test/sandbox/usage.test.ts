import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { control, raw } from "./helpers.ts";

let sb: Sandbox;
const NOW = "2026-06-15T12:00:00Z";

beforeAll(async () => {
  sb = await startSandbox({ files: 2000, seed: 21, now: () => new Date(NOW) });
});

afterAll(() => sb.close());

const usage = (query: string, metric = "") =>
  raw(sb, `/projects/${sb.publicKey}/usage/${metric ? `${metric}/` : ""}?${query}`, { auth: "bearer", accept: null });

async function allFiles(): Promise<{ size: number; datetime_uploaded: string; datetime_removed: string | null }[]> {
  const out = [];
  for (const removed of ["false", "true"]) {
    for (let uri: string | null = `/files/?limit=1000&removed=${removed}`; uri; ) {
      const page = (await raw(sb, uri)).json();
      out.push(...page.results);
      uri = page.next ? page.next.slice(sb.url.length) : null;
    }
  }
  return out;
}

describe("Project API usage", () => {
  it("answers all metrics in the documented shape", async () => {
    const res = await usage("from=2026-05-01&to=2026-05-31");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const body = res.json();
    expect(Object.keys(body)).toEqual(["units", "data"]);
    expect(body.units).toEqual({ traffic: "bytes", storage: "bytes", operations: "operations" });
    expect(body.data).toHaveLength(31);
    expect(body.data[0]).toEqual({ date: "2026-05-01", traffic: expect.any(Number), storage: expect.any(Number), operations: expect.any(Number) });
    expect(body.data[30].date).toBe("2026-05-31");
    expect(body.data.every((d: { storage: number; traffic: number }) => d.storage > 0 && d.traffic > 0)).toBe(true);
  });

  it("answers one metric as {metric, unit, data:[{date, value}]}", async () => {
    const all = (await usage("from=2026-05-01&to=2026-05-10")).json();
    for (const metric of ["traffic", "storage", "operations"] as const) {
      const one = (await usage("from=2026-05-01&to=2026-05-10", metric)).json();
      expect(one).toEqual({
        metric,
        unit: metric === "operations" ? "operations" : "bytes",
        data: all.data.map((d: Record<string, number | string>) => ({ date: d["date"], value: d[metric] })),
      });
    }
    expect((await usage("from=2026-05-01&to=2026-05-10", "bandwidth")).status).toBe(404);
  });

  it("reports storage as the bytes held at the end of each day", async () => {
    const files = await allFiles();
    const day = "2026-04-20";
    const end = `${day}T23:59:59.999999Z`;
    const held = files
      .filter((f) => f.datetime_uploaded <= end && (f.datetime_removed === null || f.datetime_removed > end))
      .reduce((sum, f) => sum + f.size, 0);
    const one = (await usage(`from=${day}&to=${day}`, "storage")).json();
    expect(one.data[0].value).toBe(held);
  });

  it("allows at most 90 days and refuses today and future dates", async () => {
    expect((await usage("from=2026-03-16&to=2026-06-13")).status).toBe(200);
    const tooLong = await usage("from=2026-03-15&to=2026-06-13");
    expect(tooLong.status).toBe(400);
    expect(tooLong.json()).toEqual({ message: expect.stringContaining("90 days"), code: "invalid_date_range" });
    expect((await usage("from=2026-06-14&to=2026-06-14")).status).toBe(200);
    const today = await usage("from=2026-06-14&to=2026-06-15");
    expect(today.status).toBe(400);
    expect(today.json().message).toContain("before today");
    for (const q of ["from=2026-06-10", "from=2026/06/01&to=2026-06-02", "from=2026-06-05&to=2026-06-01"]) {
      const res = await usage(q);
      expect(res.status, q).toBe(400);
      expect(Object.keys(res.json())).toEqual(["message", "code"]);
    }
  });

  it("refuses a bad or missing token, the REST secret, and unknown projects", async () => {
    const uri = `/projects/${sb.publicKey}/usage/?from=2026-06-01&to=2026-06-02`;
    const missing = await raw(sb, uri, { auth: "none", accept: null });
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual({ message: "Authentication credentials were not provided.", code: "not_authenticated" });
    const wrong = await raw(sb, uri, { auth: "none", accept: null, headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.json().code).toBe("authentication_failed");
    const secret = await raw(sb, uri, { auth: "none", accept: null, headers: { Authorization: `Bearer ${sb.secretKey}` } });
    expect(secret.status).toBe(403);
    const unknown = await raw(sb, "/projects/0000000000aaaaaaaaaa/usage/?from=2026-06-01&to=2026-06-02", { auth: "bearer", accept: null });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ message: "Not found.", code: "not_found" });
  });

  it("lets tests override one day's figure, and is deterministic for a seed", async () => {
    const before = (await usage("from=2026-06-01&to=2026-06-03", "traffic")).json();
    await control(sb, "PUT", "/usage", { date: "2026-06-02", metric: "traffic", value: 123 });
    const after = (await usage("from=2026-06-01&to=2026-06-03", "traffic")).json();
    expect(after.data.map((d: { value: number }) => d.value)).toEqual([before.data[0].value, 123, before.data[2].value]);
    await control(sb, "DELETE", "/usage");
    expect((await usage("from=2026-06-01&to=2026-06-03", "traffic")).json()).toEqual(before);

    const twin = await startSandbox({ files: 2000, seed: 21, now: () => new Date(NOW) });
    try {
      const a = (await usage("from=2026-04-01&to=2026-04-30")).json();
      const b = (await raw(twin, `/projects/${twin.publicKey}/usage/?from=2026-04-01&to=2026-04-30`, { auth: "bearer", accept: null })).json();
      expect(b).toEqual(a);
    } finally {
      await twin.close();
    }
  });

  it("answers the project itself", async () => {
    const res = await raw(sb, `/projects/${sb.publicKey}/`, { auth: "bearer", accept: null });
    expect(res.json()).toMatchObject({ pub_key: sb.publicKey, is_blocked: false, features: { uploads: expect.any(Object) } });
  });
});
