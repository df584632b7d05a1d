import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normaliseAddress } from "../../src/api/proxy.ts";
import { REFUSED_SOURCES_PER_MINUTE } from "../../src/api/webhooks.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { dropOldRefusedDeliveries } from "../../src/db/queries/refused-deliveries.ts";
import { queryRows } from "../../src/db/query.ts";
import { signWebhookBody } from "../../src/sync/webhooks/signature.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, type ApiHarness } from "./helpers.ts";

/**
 * Unauthenticated traffic cannot grow the database: a refused webhook delivery
 * bumps a (source, minute, reason) counter instead of adding an api_requests
 * row, while signed deliveries are logged one by one as before.
 */
describe.each(backends)("refused webhook deliveries on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let proxied: ApiHarness;
  const project = `refused-${kind}`;
  const secret = "whsec-refused-test";
  /** All refusals of a test land in one minute, so the row bound is exact. */
  let clock = new Date("2026-03-02T10:00:05Z");
  const PATH = "/v1/webhooks/uploadcare";

  /** A POST as node-server would hand it over: the TCP peer in c.env.incoming. */
  const post = (app: ApiHarness, body: string, init: { from?: string; signature?: string; headers?: Record<string, string> } = {}) =>
    app.app.request(
      PATH,
      {
        method: "POST",
        headers: { "content-type": "application/json", ...(init.signature ? { "x-uc-signature": init.signature } : {}), ...init.headers },
        body,
      },
      init.from ? { incoming: { socket: { remoteAddress: init.from } } } : undefined,
    );

  const counters = () =>
    queryRows<{ source: string; minute: string; reason: string; count: number }>(
      database.db,
      sql`select source, minute::text as minute, reason, count from refused_webhook_deliveries order by source, reason`,
    );
  const webhookLogRows = async () =>
    (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_requests where api = 'webhook'`))[0]!.n;
  const clear = () => database.db.execute(sql`delete from refused_webhook_deliveries`);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await registerProjects(database.db, [{ projectKey: project, name: "Refused", isDemo: false }]);
    const projects = [{ publicKey: project, webhookSecret: secret }];
    api = await apiHarness(database, { projects, now: () => clock });
    proxied = await apiHarness(database, { projects, now: () => clock, behindProxy: true });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("counts 3,000 unsigned posts in a bounded number of rows whose counts add up to 3,000, and logs none of them", async () => {
    await clear();
    const before = await webhookLogRows();
    const sources = ["203.0.113.7", "198.51.100.20", "::ffff:192.0.2.1"];
    const body = JSON.stringify({ hook: { event: "file.stored", project_pub_key: project }, data: {} });
    for (let i = 0; i < 3000; i++) {
      const res = await post(api, body, { from: sources[i % 3], signature: i % 2 === 0 ? undefined : "v1=forged" });
      expect(res.status).toBe(401);
    }
    const rows = await counters();
    // One row per source and reason (one minute): 3 sources × 2 reasons.
    expect(rows).toHaveLength(6);
    expect(rows.reduce((n, r) => n + Number(r.count), 0)).toBe(3000);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(["203.0.113.7", "198.51.100.20", "192.0.2.1"]));
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(["signature_missing", "signature_invalid"]));
    expect(rows.every((r) => Number(r.count) === 500)).toBe(true);
    expect(new Set(rows.map((r) => new Date(r.minute).toISOString()))).toEqual(new Set(["2026-03-02T10:00:00.000Z"]));
    expect(await webhookLogRows()).toBe(before);
  }, 120_000);

  it("starts a new row each minute and counts an oversized body as body_too_large (413)", async () => {
    await clear();
    const big = "x".repeat(1024 * 1024 + 1);
    expect((await post(api, big, { from: "203.0.113.9", signature: "v1=whatever" })).status).toBe(413);
    clock = new Date("2026-03-02T10:01:30Z");
    expect((await post(api, "{}", { from: "203.0.113.9" })).status).toBe(401);
    expect((await post(api, "{}", { from: "203.0.113.9" })).status).toBe(401);
    clock = new Date("2026-03-02T10:00:05Z");
    const rows = await counters();
    expect(rows.map((r) => [r.reason, Number(r.count), new Date(r.minute).toISOString()]).sort()).toEqual([
      ["body_too_large", 1, "2026-03-02T10:00:00.000Z"],
      ["signature_missing", 2, "2026-03-02T10:01:00.000Z"],
    ]);
  });

  it("still logs each signed delivery in api_requests under its project, and counts nothing for it", async () => {
    await clear();
    const body = JSON.stringify({ hook: { event: "file.stored", project_pub_key: project }, data: { uuid: "not-a-file" } });
    const res = await post(api, body, { from: "203.0.113.7", signature: signWebhookBody(secret, body) });
    expect(res.status).toBe(200);
    const logged = await queryRows<{ project_key: string; status: number; query: string }>(
      database.db,
      sql`select project_key, status, query from api_requests where api = 'webhook' and project_key = ${project}`,
    );
    expect(logged).toEqual([{ project_key: project, status: 200, query: "event=file.stored" }]);
    expect(await counters()).toEqual([]);
  });

  it("believes X-Forwarded-For only behind a proxy, and then only its last entry", async () => {
    await clear();
    const spoof = { "x-forwarded-for": "1.1.1.1, 10.9.8.7" };
    for (let i = 0; i < 5; i++) await post(api, "{}", { from: "192.0.2.50", headers: { "x-forwarded-for": `100.64.0.${i}` } });
    await post(proxied, "{}", { from: "10.0.0.1", headers: spoof });
    const rows = await counters();
    expect(rows.map((r) => [r.source, Number(r.count)]).sort()).toEqual([
      ["10.9.8.7", 1],
      ["192.0.2.50", 5],
    ]);
  });

  it(`folds sources past ${REFUSED_SOURCES_PER_MINUTE} a minute into one 'other' row`, async () => {
    await clear();
    clock = new Date("2026-03-02T11:00:00Z");
    const extra = 7;
    for (let i = 0; i < REFUSED_SOURCES_PER_MINUTE + extra; i++) {
      await post(api, "{}", { from: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
    }
    clock = new Date("2026-03-02T10:00:05Z");
    const rows = await counters();
    expect(rows).toHaveLength(REFUSED_SOURCES_PER_MINUTE + 1);
    expect(rows.find((r) => r.source === "other")?.count).toBe(extra);
    expect(rows.reduce((n, r) => n + Number(r.count), 0)).toBe(REFUSED_SOURCES_PER_MINUTE + extra);
  }, 120_000);

  it("shows the counts in the API log route and on the dashboard's API log page, and the daily sweep drops old minutes", async () => {
    await clear();
    for (let i = 0; i < 4; i++) await post(api, "{}", { from: "203.0.113.7" });
    await post(api, "{}", { from: "198.51.100.1", signature: "v1=bad" });
    const listed = await api.json<{ totals: { reason: string; count: number; sources: number }[]; data: { source: string; status: number; count: number }[] }>(
      "/v1/api-logs/refused-webhooks?from=2026-03-02T00:00:00Z",
      { role: "viewer" },
    );
    expect(listed.status).toBe(200);
    expect(listed.body.totals).toEqual([
      { reason: "signature_invalid", count: 1, sources: 1 },
      { reason: "signature_missing", count: 4, sources: 1 },
    ]);
    expect(listed.body.data.map((r) => [r.source, r.status, r.count])).toEqual([
      ["203.0.113.7", 401, 4],
      ["198.51.100.1", 401, 1],
    ]);
    expect((await api.call("/v1/api-logs/refused-webhooks?from=yesterday")).status).toBe(400);
    expect((await api.call("/v1/api-logs/refused-webhooks", { role: null })).status).toBe(401);

    expect(await dropOldRefusedDeliveries(database.db, new Date("2026-03-02T10:00:30Z"))).toBe(2);
    expect(await counters()).toEqual([]);
  });

  it("normalises addresses: IPv4-mapped IPv6 to IPv4, IPv6 to its /64, junk to unknown", () => {
    expect(normaliseAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(normaliseAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(normaliseAddress("2001:DB8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(normaliseAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(normaliseAddress("::1")).toBe("0:0:0:0::/64");
    expect(normaliseAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(normaliseAddress("not an address")).toBe("unknown");
    expect(normaliseAddress(undefined)).toBe("unknown");
  });
});
