import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

/**
 * The dashboard without a browser: sign-in and its cookie, what each role is
 * shown, escaping of user input, and the CSRF check on every form. The
 * browser tests (browser.test.ts) drive the same pages in Chromium.
 */

const XSS_NAME = "<img src=x onerror=alert(1)>.png";
const XSS_META = '<script>alert("meta")</script>';

/** The cookies a response sets, as `name=value` pairs ready for a Cookie header. */
function cookiesOf(res: Response): { header: string; raw: string[] } {
  const raw = res.headers.getSetCookie();
  return { header: raw.map((c) => c.split(";")[0]).join("; "), raw };
}

/** A Cookie header after `later` was set on top of `earlier`, as a browser keeps them (by name, the later wins). */
function merged(earlier: string, later: string): string {
  const jar = new Map<string, string>();
  for (const pair of `${earlier}; ${later}`.split("; ").filter(Boolean)) jar.set(pair.slice(0, pair.indexOf("=")), pair);
  return [...jar.values()].join("; ");
}

const cookieValue = (header: string, name: string) => new RegExp(`(?:^|; )${name}=([^;]*)`).exec(header)?.[1];

function formBody(fields: Record<string, string>): { method: string; headers: Record<string, string>; body: string } {
  return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() };
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

describe.each(backends)("dashboard pages on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  const project = `dash-${kind}`;
  let planId: string;

  /** Signs in as a role; returns the cookies and the CSRF token the pages carry. */
  async function signIn(role: "viewer" | "operator" | "admin") {
    const page = await api.app.request("/dashboard/sign-in");
    const preCookies = cookiesOf(page).header;
    const csrf = csrfIn(await page.text())!;
    const res = await api.app.request("/dashboard/sign-in", {
      ...formBody({ token: api.tokens[role], _csrf: csrf, next: "/dashboard/plans" }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: preCookies },
    });
    expect(res.status).toBe(303);
    const cookie = merged(preCookies, cookiesOf(res).header);
    // Signing in replaces the CSRF value: the one from before no longer counts.
    const fresh = cookieValue(cookie, "ucledger_csrf")!;
    expect(fresh).not.toBe(csrf);
    return { res, cookie, csrf: fresh };
  }

  const get = (path: string, cookie: string) => api.app.request(path, { headers: { cookie } });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database);
    await registerProjects(database.db, [{ projectKey: project, name: "Dashboard test", isDemo: false }]);
    const uploaded = new Date(Date.now() - 30 * 86_400_000).toISOString();
    await insertFiles(database.db, [
      { projectKey: project, uuid: uuidOf(1), uploaded, filename: XSS_NAME, metadata: { note: XSS_META }, appdata: { "<b>bold</b>": { x: "</pre><script>1</script>" } } },
      { projectKey: project, uuid: uuidOf(2), uploaded, filename: "plain.pdf", mimeType: "application/pdf", stored: uploaded },
      { projectKey: project, uuid: uuidOf(3), uploaded, filename: "old.png", size: 5000 },
    ]);
    const policy = await api.json<{ id: string }>("/v1/policies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ project, name: "png cleanup", action: "delete", conditions: [{ kind: "mime", types: ["image/png"] }] }),
    });
    expect(policy.status).toBe(201);
    const plan = await api.json<{ id: string; status: string }>("/v1/plans", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ project, policy: policy.body.id }),
    });
    expect(plan.status).toBe(201);
    planId = plan.body.id;
  });
  afterAll(async () => {
    await database?.close();
  });

  it("sends a visitor without a session to sign in, keeping where they were going", async () => {
    const res = await api.app.request("/dashboard/files?state=stored");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/dashboard/sign-in?next=${encodeURIComponent("/dashboard/files?state=stored")}`);
    expect((await api.app.request("/")).headers.get("location")).toBe("/dashboard");
  });

  it("refuses an unknown token and keeps the API token in an HttpOnly, SameSite=Strict cookie", async () => {
    const page = await api.app.request("/dashboard/sign-in");
    const pre = cookiesOf(page).header;
    const csrf = csrfIn(await page.text())!;
    const bad = await api.app.request("/dashboard/sign-in", {
      ...formBody({ token: "ucl_not-a-real-token-at-all", _csrf: csrf }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: pre },
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain("That token is unknown or revoked.");
    expect(cookiesOf(bad).raw.some((c) => c.startsWith("ucledger_session="))).toBe(false);

    const { res } = await signIn("viewer");
    expect(res.headers.get("location")).toBe("/dashboard/plans");
    const session = cookiesOf(res).raw.find((c) => c.startsWith("ucledger_session="))!;
    expect(session).toContain("HttpOnly");
    expect(session).toContain("SameSite=Strict");
    expect(session).toContain("Path=/");
  });

  it("never redirects after sign-in to another site", async () => {
    const page = await api.app.request("/dashboard/sign-in");
    const pre = cookiesOf(page).header;
    const csrf = csrfIn(await page.text())!;
    for (const next of ["https://evil.example/", "//evil.example/dashboard", "/dashboard\\@evil.example"]) {
      const res = await api.app.request("/dashboard/sign-in", {
        ...formBody({ token: api.tokens.viewer, _csrf: csrf, next }),
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: pre },
      });
      expect(res.headers.get("location"), next).toBe("/dashboard");
    }
  });

  it("lets the session cookie read the API but never write to it", async () => {
    const { cookie } = await signIn("admin");
    const read = await get(`/v1/files?project=${project}`, cookie);
    expect(read.status).toBe(200);
    const write = await api.app.request(`/v1/plans/${planId}/approve`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ reason: "cookie only" }),
    });
    expect(write.status).toBe(401);
    const plan = await api.json<{ status: string }>(`/v1/plans/${planId}`);
    expect(plan.body.status).toBe("proposed");
  });

  it("shows file names, metadata and appdata as text, never as markup", async () => {
    const { cookie } = await signIn("viewer");
    const list = await (await get(`/dashboard/files?project=${project}`, cookie)).text();
    expect(list).toContain("&lt;img src=x onerror=alert(1)&gt;.png");
    expect(list).not.toContain("<img src=x");

    const file = await get(`/dashboard/files/${project}/${uuidOf(1)}`, cookie);
    expect(file.status).toBe(200);
    const html = await file.text();
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;.png");
    expect(html).toContain("&lt;script&gt;alert(&quot;meta&quot;)&lt;/script&gt;");
    expect(html).not.toMatch(/<script>alert|<img src=x|<b>bold<\/b>|<\/pre><script>/);
    // A second line of defence: the page may run only its own script.
    expect(file.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("filters files through the API's filters and links the CSV of the same filter", async () => {
    const { cookie } = await signIn("viewer");
    const html = await (await get(`/dashboard/files?project=${project}&state=stored`, cookie)).text();
    expect(html).toContain("plain.pdf");
    expect(html).not.toContain("old.png");
    const csvLink = /href="(\/v1\/files\?[^"]*format=csv[^"]*)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    const csv = await get(csvLink, cookie);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const body = await csv.text();
    expect(body).toContain("plain.pdf");
    expect(body).not.toContain("old.png");

    const bad = await get(`/dashboard/files?project=${project}&sizeMin=-5`, cookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("sizeMin");
  });

  it("shows which files the application still references, and filters the unreferenced", async () => {
    const push = await api.call(`/v1/references/app-db?project=${project}`, {
      method: "PUT",
      headers: { "content-type": "application/x-ndjson" },
      body: `${JSON.stringify({ ref: "orders/1", value: `https://ucarecdn.com/${uuidOf(2)}/-/resize/200x/plain.pdf` })}\n`,
    });
    expect(push.status).toBe(200);
    const { cookie } = await signIn("viewer");
    const unreferenced = await (await get(`/dashboard/files?project=${project}&referenced=false`, cookie)).text();
    expect(unreferenced).toContain("old.png");
    expect(unreferenced).not.toContain("plain.pdf");
    const file = await (await get(`/dashboard/files/${project}/${uuidOf(2)}`, cookie)).text();
    expect(file).toContain("orders/1");
    expect(file).toContain("/-/resize/200x/plain.pdf");
    const orphan = await (await get(`/dashboard/files/${project}/${uuidOf(3)}`, cookie)).text();
    expect(orphan).toContain("Nothing references this file since");
    const overview = await (await get(`/dashboard?project=${project}`, cookie)).text();
    expect(overview).toContain("Unreferenced now");
    expect(overview).toMatch(/<td>app-db<\/td><td>push<\/td><td class="num">1<\/td>/);
  });

  it("shows a viewer no approve or apply button, and an operator both forms with the CSRF token", async () => {
    const viewer = await signIn("viewer");
    const viewerPage = await (await get(`/dashboard/plans/${planId}`, viewer.cookie)).text();
    expect(viewerPage).toContain("png cleanup");
    expect(viewerPage).not.toContain(`/dashboard/plans/${planId}/approve`);
    expect(viewerPage).not.toContain(`/dashboard/plans/${planId}/apply`);
    expect(viewerPage).not.toContain("Propose a plan");
    expect(viewerPage).toContain("You are signed in as a viewer");

    const operator = await signIn("operator");
    const operatorPage = await (await get(`/dashboard/plans/${planId}`, operator.cookie)).text();
    expect(operatorPage).toContain(`action="/dashboard/plans/${planId}/approve"`);
    expect(csrfIn(operatorPage)).toBe(operator.csrf);
  });

  it("refuses a form without the cookie's CSRF token, and takes the same form with it", async () => {
    const { cookie, csrf } = await signIn("operator");
    const post = (fields: Record<string, string>) =>
      api.app.request(`/dashboard/plans/${planId}/approve`, { ...formBody(fields), headers: { "content-type": "application/x-www-form-urlencoded", cookie } });

    const missing = await post({ reason: "forged" });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain("it did not carry this browser");
    const wrong = await post({ reason: "forged", _csrf: "A".repeat(43) });
    expect(wrong.status).toBe(403);
    const noCookie = await api.app.request(`/dashboard/plans/${planId}/approve`, {
      ...formBody({ reason: "forged", _csrf: csrf }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie.replace(/ucledger_csrf=[^;]+;?\s*/, "") },
    });
    expect(noCookie.status).toBe(403);
    expect((await api.json<{ status: string; approvals: { received: unknown[] } }>(`/v1/plans/${planId}`)).body.approvals.received).toEqual([]);

    const real = await post({ reason: "checked the sample", _csrf: csrf });
    expect(real.status).toBe(303);
    expect(real.headers.get("location")).toBe(`/dashboard/plans/${planId}?done=approve`);
    // The admin proposed the plan (beforeAll), so the operator's approval is the other pair of eyes.
    const plan = await api.json<{ status: string; approvals: { received: { reason: string }[] } }>(`/v1/plans/${planId}`);
    expect(plan.body.status).toBe("approved");
    expect(plan.body.approvals.received.map((a) => a.reason)).toEqual(["checked the sample"]);
  });

  it("explains an action the API refuses instead of failing", async () => {
    const { cookie, csrf } = await signIn("operator");
    // This server has no Uploadcare clients, so applying is refused with the API's reason.
    const res = await api.app.request(`/dashboard/plans/${planId}/apply`, {
      ...formBody({ _csrf: csrf, confirm: "yes" }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("this server cannot apply plans: it has no Uploadcare clients configured");
  });

  it("signs out: the cookie is cleared and the next page asks to sign in", async () => {
    const { cookie, csrf } = await signIn("viewer");
    const res = await api.app.request("/dashboard/sign-out", { ...formBody({ _csrf: csrf }), headers: { "content-type": "application/x-www-form-urlencoded", cookie } });
    expect(res.status).toBe(303);
    expect(cookiesOf(res).raw.find((c) => c.startsWith("ucledger_session="))).toMatch(/Max-Age=0/);
  });

  it("answers an unknown page or file with an HTML 404 that names what is missing", async () => {
    const { cookie } = await signIn("viewer");
    const page = await get("/dashboard/nowhere", cookie);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain("There is no dashboard page at this address.");
    const file = await get(`/dashboard/files/${project}/${uuidOf(999)}`, cookie);
    expect(file.status).toBe(404);
    expect(await file.text()).toContain(uuidOf(999));
  });

  it("renders every section for a signed-in viewer", async () => {
    const { cookie } = await signIn("viewer");
    for (const path of ["/dashboard", `/dashboard?project=${project}`, "/dashboard/files", "/dashboard/audit", "/dashboard/audit?verify=1", "/dashboard/plans", "/dashboard/reports", "/dashboard/api-log"]) {
      const res = await get(path, cookie);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toContain("text/html");
    }
  });
});

describe.each(backends)("dashboard empty states on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database);
    await registerProjects(database.db, [{ projectKey: `empty-${kind}`, name: "Empty", isDemo: false }]);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("says what to do next when nothing has happened yet", async () => {
    const page = await api.app.request("/dashboard/sign-in");
    const pre = cookiesOf(page).header;
    const signedIn = await api.app.request("/dashboard/sign-in", {
      ...formBody({ token: api.tokens.viewer, _csrf: csrfIn(await page.text())! }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: pre },
    });
    const cookie = merged(pre, cookiesOf(signedIn).header);
    const text = async (path: string) => (await api.app.request(path, { headers: { cookie } })).text();
    expect(await text("/dashboard")).toContain("No sync has run yet.");
    expect(await text("/dashboard/files")).toContain("The ledger holds no files yet.");
    expect(await text("/dashboard/plans")).toContain("No policy yet.");
    expect(await text("/dashboard/reports")).toContain("No report has been written yet.");
    expect(await text("/dashboard/api-log")).toContain("No request recorded.");
  });
});
