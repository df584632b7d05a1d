import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardSession, dropEndedDashboardSessions, findLiveSession } from "../../src/db/queries/dashboard-sessions.ts";
import { createToken, revokeToken } from "../../src/db/queries/tokens.ts";
import { queryRows } from "../../src/db/query.ts";
import { apiHarness, type ApiHarness } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

/**
 * Server-side dashboard sessions: the cookie holds a random id, never the API
 * token; sign-out, token revocation and expiry each make a copied cookie useless.
 */

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);

describe.each(backends)("dashboard sessions on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let serial = 0;

  /** A fresh token (so revoking it touches no other test) and a browser signed in with it. */
  async function signedIn() {
    serial += 1;
    const created = await createToken(database.db, { name: `s-${kind}-${process.pid}-${serial}`, role: "viewer", createdBy: "test", now: new Date() });
    const page = await api.app.request("/dashboard/sign-in");
    const csrf = cookieOf(page, "ucledger_csrf")!;
    const res = await api.app.request("/dashboard/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `ucledger_csrf=${csrf}` },
      body: new URLSearchParams({ token: created.token, _csrf: csrfIn(await page.text())! }).toString(),
    });
    expect(res.status).toBe(303);
    const session = cookieOf(res, "ucledger_session")!;
    const freshCsrf = cookieOf(res, "ucledger_csrf")!;
    return { token: created.token, name: created.name, session, csrf: freshCsrf, cookie: `ucledger_session=${session}; ucledger_csrf=${freshCsrf}` };
  }

  const page = (cookie: string) => api.app.request("/dashboard/plans", { headers: { cookie } });
  const apiGet = (cookie: string) => api.app.request("/v1/projects", { headers: { cookie } });
  const expectSignedOut = async (cookie: string) => {
    const res = await page(cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/dashboard\/sign-in/);
    expect((await apiGet(cookie)).status).toBe(401);
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("puts a random 256-bit id in the cookie, not the token, and stores only its SHA-256", async () => {
    const a = await signedIn();
    const b = await signedIn();
    expect(a.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.session, "base64url")).toHaveLength(32);
    expect(a.session).not.toBe(b.session);
    expect(a.session).not.toContain(a.token);
    const rows = await queryRows<Record<string, string | null>>(database.db, sql`select * from dashboard_sessions`);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(a.session);
    expect(stored).not.toContain(a.token);
    const hash = createHash("sha256").update(a.session).digest("hex");
    expect(rows.filter((r) => r["id_hash"] === hash)).toHaveLength(1);
    expect((await page(a.cookie)).status).toBe(200);
    expect((await apiGet(a.cookie)).status).toBe(200);
  });

  it("refuses a cookie that holds the API token itself (the old cookie format)", async () => {
    const { token } = await signedIn();
    await expectSignedOut(`ucledger_session=${token}`);
  });

  it("sign-out makes a copy of the old cookie useless, for pages and for API reads", async () => {
    const s = await signedIn();
    const copied = s.cookie;
    const out = await api.app.request("/dashboard/sign-out", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: s.cookie },
      body: new URLSearchParams({ _csrf: s.csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().find((c) => c.startsWith("ucledger_session="))).toMatch(/Max-Age=0/);
    await expectSignedOut(copied);
    const [row] = await queryRows<{ revoked: boolean }>(
      database.db,
      sql`select revoked_at is not null as revoked from dashboard_sessions where id_hash = ${createHash("sha256").update(s.session).digest("hex")}`,
    );
    expect(row?.revoked).toBe(true);
  });

  it("revoking the token ends its sessions at once", async () => {
    const s = await signedIn();
    expect((await page(s.cookie)).status).toBe(200);
    await revokeToken(database.db, { name: s.name, now: new Date() });
    await expectSignedOut(s.cookie);
  });

  it("refuses an expired session", async () => {
    serial += 1;
    const { token } = await createToken(database.db, { name: `s-exp-${kind}-${serial}`, role: "viewer", createdBy: "test", now: new Date() });
    const thirteenHoursAgo = new Date(Date.now() - 13 * 3_600_000);
    const started = await createDashboardSession(database.db, { token, now: thirteenHoursAgo, ttlMs: 12 * 3_600_000 });
    expect(started).not.toBeNull();
    await expectSignedOut(`ucledger_session=${started!.id}`);
    const live = await createDashboardSession(database.db, { token, now: new Date(), ttlMs: 12 * 3_600_000 });
    expect((await page(`ucledger_session=${live!.id}`)).status).toBe(200);
  });

  it("signing in again over a session revokes the old one", async () => {
    const s = await signedIn();
    const form = await api.app.request("/dashboard/sign-in", { headers: { cookie: s.cookie } });
    const again = await api.app.request("/dashboard/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: s.cookie },
      body: new URLSearchParams({ token: s.token, _csrf: csrfIn(await form.text())! }).toString(),
    });
    expect(again.status).toBe(303);
    const fresh = cookieOf(again, "ucledger_session")!;
    expect(fresh).not.toBe(s.session);
    await expectSignedOut(s.cookie);
    expect((await page(`ucledger_session=${fresh}`)).status).toBe(200);
  });

  it("moves last_seen_at at most once a minute, and the daily sweep deletes long-ended sessions", async () => {
    serial += 1;
    const { token } = await createToken(database.db, { name: `s-seen-${kind}-${serial}`, role: "viewer", createdBy: "test", now: new Date() });
    const t0 = new Date(Date.now() - 3_600_000);
    const s = (await createDashboardSession(database.db, { token, now: t0, ttlMs: 12 * 3_600_000 }))!;
    const hash = createHash("sha256").update(s.id).digest("hex");
    const seen = async () => (await queryRows<{ at: string }>(database.db, sql`select last_seen_at::text as at from dashboard_sessions where id_hash = ${hash}`))[0]!.at;
    const first = await seen();
    expect(await findLiveSession(database.db, s.id, new Date(t0.getTime() + 30_000))).not.toBeNull();
    expect(await seen()).toBe(first);
    expect(await findLiveSession(database.db, s.id, new Date(t0.getTime() + 90_000))).not.toBeNull();
    expect(await seen()).not.toBe(first);

    const ended = (await createDashboardSession(database.db, { token, now: new Date(Date.now() - 40 * 86_400_000), ttlMs: 12 * 3_600_000 }))!;
    expect(await dropEndedDashboardSessions(database.db, new Date(Date.now() - 30 * 86_400_000))).toBeGreaterThanOrEqual(1);
    const left = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from dashboard_sessions where id_hash in (${hash}, ${createHash("sha256").update(ended.id).digest("hex")})`,
    );
    expect(left[0]!.n).toBe(1);
  });

  it("lets the dashboard act through the API in-process, but never lets the cookie alone write", async () => {
    const s = await signedIn();
    const write = await api.app.request("/v1/tokens", {
      method: "POST",
      headers: { cookie: s.cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: "via-cookie", role: "admin" }),
    });
    expect(write.status).toBe(401);
  });
});
