import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../support/csv.ts";
import { randomPort, startServer, waitForHealth } from "../support/server.ts";
import { until as waitFor } from "../support/wait.ts";

/**
 * The dashboard in Debian's Chromium, against `npm start` in demo mode (the
 * built-in sandbox with its demo project), as someone trying ucledger sees it.
 * Every test saves a screenshot under test-output/dashboard/ (README: "Dashboard").
 */

const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = fileURLToPath(new URL("../../test-output/dashboard/", import.meta.url));
const XSS_NAME = "<img src=x onerror=alert(1)>.png";

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const message = `\n*** ${CHROMIUM} is missing: the dashboard's browser tests cannot run. Install it with \`apt-get install chromium\` (.ci/run does). ***\n`;
  // In CI a missing browser is a broken machine, not a reason to pass.
  if (process.env["CI"]) throw new Error(message);
  console.warn(message);
}

interface Demo {
  base: string;
  token: string;
  sandbox: string;
  stop(): Promise<void>;
}

async function startDemo(): Promise<Demo> {
  const port = randomPort();
  const server = startServer({ UCLEDGER_DATA_DIR: mkdtempSync(join(tmpdir(), "ucl-dash-")), PORT: String(port) });
  await waitForHealth(port, 90_000);
  const { stdout } = server.output();
  const token = /demo admin token[^:]*: (ucl_[A-Za-z0-9_-]+)/.exec(stdout)?.[1];
  const sandbox = /"sandbox":"(http:\/\/[^"]+)"/.exec(stdout)?.[1];
  if (!token || !sandbox) throw new Error(`the demo server printed no token or sandbox address:\n${stdout}`);
  return {
    base: `http://127.0.0.1:${port}`,
    token,
    sandbox,
    async stop() {
      server.child.kill("SIGTERM");
      await server.exited;
    },
  };
}

describe.skipIf(!hasChromium)("the dashboard in Chromium (demo mode)", () => {
  let demo: Demo;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** The API as the demo admin, for set-up and for checking what the browser did. */
  async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${demo.token}`);
    if (init.body) headers.set("content-type", "application/json");
    const res = await fetch(`${demo.base}${path}`, { ...init, headers });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return (res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text) as T;
  }

  const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>) => waitFor(what, probe, { timeoutMs: 60_000, intervalMs: 250 });

  async function signedIn(token = demo.token, options: { timezoneId?: string; viewport?: { width: number; height: number } } = {}): Promise<Page> {
    const context = await browser.newContext({ timezoneId: options.timezoneId ?? "UTC", viewport: options.viewport ?? { width: 1280, height: 900 }, acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${demo.base}/dashboard`);
    await expect.poll(() => page.url()).toContain("/dashboard/sign-in");
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${demo.base}/dashboard`);
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    demo = await startDemo();
    browser = await chromium.launch({ executablePath: CHROMIUM });
    // The demo's first sync and last week's report run at start-up.
    await until("the demo's first sync", async () => (await api<{ total: number }>("/v1/files?limit=1&count=exact")).total > 1000);
    await until("last week's report", async () => (await api<{ data: unknown[] }>("/v1/reports?limit=1")).data.length > 0);
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await demo?.stop();
  });

  it("signs in with the token and shows the overview with the report's charts", async () => {
    const page = await signedIn();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toMatch(/^Overview · /);
    // The last complete week, with its picker, even for the one demo project.
    await expect.poll(() => page.getByRole("textbox", { name: "Week" }).isVisible()).toBe(true);
    expect(await page.locator("h2[data-week]").getAttribute("data-week")).toBe(await page.getByRole("textbox", { name: "Week" }).inputValue());
    expect(await page.getByText("This week is still running").count()).toBe(0);
    expect(await page.getByRole("table", { name: "Sync health by lane" }).count()).toBe(1);
    expect(await page.getByRole("img", { name: /Uploads per day/ }).count()).toBe(1);
    expect(await page.locator(".card .figure").first().textContent()).toMatch(/^\d[\d,]*$/);
    await shot(page, "overview");
  });

  it("counts the fresh demo's 2,000 files exactly on the files page", async () => {
    const page = await signedIn();
    await page.getByRole("link", { name: "Files", exact: true }).click();
    await page.waitForURL(/\/dashboard\/files$/);
    expect(await page.locator("[data-total]").textContent()).toBe("50 shown of 2,000");
    await shot(page, "files-total");
  });

  it("shows every project at a glance, with totals and links into each", async () => {
    const page = await signedIn();
    await page.getByRole("link", { name: "All projects" }).click();
    await page.waitForURL(/\/dashboard\/projects$/);
    const table = page.getByRole("table", { name: "Every project" });
    expect(await table.locator("tbody tr").count()).toBe(2);
    const files = await table.locator('td[data-figure="files"]').allTextContents();
    expect(files[0]).toBe(files[1]);
    await shot(page, "all-projects");
    await table.locator("tbody tr").first().getByRole("link").first().click();
    await page.waitForURL(/\/dashboard\?project=/);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toMatch(/^Overview · /);
  });

  it("creates a policy from a template with a preview count before saving", async () => {
    const page = await signedIn();
    await page.goto(`${demo.base}/dashboard/policies/new`);
    await page.locator(`select[name="template"]`).selectOption("delete-unstored-older-than");
    await page.getByRole("button", { name: "Choose" }).click();
    await page.getByLabel(/^Name/).fill("old temporary uploads");
    await page.getByLabel(/^hours/).fill("2");
    await page.getByRole("button", { name: "Preview" }).click();
    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.count()).toBe(1);
    const count = Number(await preview.getAttribute("data-preview-files"));
    expect(await preview.textContent()).toContain("uploaded at least 2 h ago");
    await shot(page, "policy-preview");
    const dry = await api<{ files: number }>("/v1/plans", { method: "POST", body: JSON.stringify({ policy: "old temporary uploads", dryRun: true }) }).catch(() => null);
    expect(dry).toBeNull(); // nothing saved by the preview
    await page.getByRole("button", { name: "Create the policy" }).click();
    await page.waitForURL(/\/dashboard\/plans\?created=/);
    expect(await page.getByText("Policy “old temporary uploads” is created").count()).toBe(1);
    const saved = await api<{ files: number }>("/v1/plans", { method: "POST", body: JSON.stringify({ policy: "old temporary uploads", dryRun: true }) });
    expect(saved.files).toBe(count);
    await shot(page, "policy-created");
  });

  it("filters the infected files and badges them on their page", async () => {
    const page = await signedIn();
    await page.goto(`${demo.base}/dashboard/files`);
    await page.getByLabel("Virus scan found infected").selectOption("true");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/infected=true/);
    const expected = await api<{ total: number }>("/v1/files?infected=true&limit=1");
    expect(expected.total).toBeGreaterThan(0);
    expect(await page.locator("tbody tr").count()).toBe(expected.total);
    expect(await page.locator("tbody .badge", { hasText: "infected" }).count()).toBe(expected.total);
    await shot(page, "files-infected");
    await page.locator("tbody td.name a").first().click();
    await page.waitForURL(/\/dashboard\/files\/[^/]+\/[0-9a-f-]{36}$/);
    expect(await page.locator("dd .badge", { hasText: "infected" }).count()).toBe(1);
    await shot(page, "file-infected");
  });

  it("filters files and downloads the CSV of exactly that filter", async () => {
    const page = await signedIn();
    await page.getByRole("link", { name: "Files", exact: true }).click();
    await page.getByLabel("State").selectOption("removed");
    await page.getByLabel("MIME type").fill("image/");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/state=removed/);
    const states = await page.locator("tbody .badge").allTextContents();
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states.filter((s) => s !== "missing"))).toEqual(new Set(["removed"]));
    await shot(page, "files-filtered");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV of this filter" }).click()]);
    const csv = parseCsv(await (await import("node:fs/promises")).readFile((await download.path())!, "utf8"));
    const expected = parseCsv(await api<string>("/v1/files?removed=true&mime=image/&format=csv"));
    expect(csv.length).toBeGreaterThan(1);
    expect(csv).toEqual(expected);
  });

  it("opens a file and shows its fields, CDN link and audit timeline, in the viewer's time zone", async () => {
    const page = await signedIn(demo.token, { timezoneId: "America/New_York" });
    await page.goto(`${demo.base}/dashboard/files?state=removed`);
    await page.locator("tbody td.name a").first().click();
    await page.waitForURL(/\/dashboard\/files\/[^/]+\/[0-9a-f-]{36}$/);
    const uuid = page.url().split("/").at(-1)!;
    expect(await page.getByRole("link", { name: `https://ucarecdn.com/${uuid}/` }).count()).toBe(1);
    const timeline = page.getByRole("list", { name: "Audit timeline, oldest first" });
    await expect.poll(() => timeline.locator(":scope > li").count()).toBeGreaterThan(0);
    expect(await timeline.textContent()).toMatch(/uploaded|removed/);
    // Shown in New York time; UTC on hover.
    const time = page.locator("time").first();
    const title = (await time.getAttribute("title"))!;
    expect(title).toMatch(/ UTC$/);
    expect(await time.textContent()).not.toBe(title);
    await shot(page, "file");
  });

  it("proposes to delete one file from its page, as a one-file plan that waits for approval", async () => {
    const page = await signedIn();
    await page.goto(`${demo.base}/dashboard/files?state=stored&mime=image`);
    await page.locator("tbody td.name a").first().click();
    await page.waitForURL(/\/dashboard\/files\/[^/]+\/[0-9a-f-]{36}$/);
    const uuid = page.url().split("/").at(-1)!;
    expect(await page.getByRole("button", { name: "Propose to store this file…" }).count()).toBe(0);
    await shot(page, "file-actions");
    await page.getByRole("button", { name: "Propose to delete this file…" }).click();
    await page.waitForURL(/\/dashboard\/plans\/[0-9a-f-]{36}\?done=proposed$/);
    expect(await page.getByText("The plan is proposed").count()).toBe(1);
    expect(await page.getByText(`the file ${uuid}`).count()).toBeGreaterThan(0);
    await shot(page, "file-one-plan");
    const planId = new URL(page.url()).pathname.split("/").at(-1)!;
    const plan = await api<{ action: string; status: string; fileCount: number }>(`/v1/plans/${planId}`);
    expect(plan).toMatchObject({ action: "delete", status: "proposed", fileCount: 1 });
    // Left proposed: nothing is deleted without someone else's approval.
    const file = await api<{ datetimeRemoved: string | null }>(`/v1/files/${uuid}`);
    expect(file.datetimeRemoved).toBeNull();
  });

  it("proposes a plan, has someone else approve it (four eyes), and applies it on the demo project, following its progress", async () => {
    const policy = await api<{ id: string; name: string }>("/v1/policies", {
      method: "POST",
      body: JSON.stringify({ name: "delete csv exports", action: "delete", conditions: [{ kind: "state", in: ["stored"] }, { kind: "mime", types: ["text/csv"] }] }),
    });
    const page = await signedIn();
    await page.getByRole("link", { name: "Plans" }).click();
    const row = page.getByRole("row").filter({ hasText: policy.name });
    await row.getByRole("button", { name: "Propose a plan" }).click();
    await page.waitForURL(/\/dashboard\/plans\/[0-9a-f-]{36}\?done=proposed$/);
    const planId = new URL(page.url()).pathname.split("/").at(-1)!;
    expect(await page.getByText("The plan is proposed").count()).toBe(1);
    // Evidence per file: what the conditions looked at.
    expect(await page.locator("tbody").last().textContent()).toContain("text/csv");

    // The admin proposed it, so the admin gets no approve form: someone else must approve.
    expect(await page.getByText("You proposed this plan, so you cannot approve it: 1 more approval is needed from someone else.").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Approve" }).count()).toBe(0);
    const reviewer = await api<{ token: string }>("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "e2e-reviewer", role: "operator" }) });
    const other = await signedIn(reviewer.token);
    await other.goto(`${demo.base}/dashboard/plans/${planId}`);
    expect(await other.getByText(/1 more approval is needed, from anyone but token:\S+ \(who proposed it/).count()).toBe(1);
    await other.getByLabel("Why approve?").fill("old CSV exports, checked with the team");
    await other.getByRole("button", { name: "Approve" }).click();
    await other.waitForURL(/done=approve$/);
    await page.reload();
    await page.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/done=apply$/);
    // The page follows the run and reloads when it ends.
    await expect.poll(() => page.locator(".badge").filter({ hasText: /^applied$/ }).count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await shot(page, "plan-applied");

    const plan = await api<{ status: string; fileCount: number; progress: { done: { files: number } }; approvals: { received: { actor: string; reason: string }[] } }>(`/v1/plans/${planId}`);
    expect(plan.status).toBe("applied");
    expect(plan.fileCount).toBeGreaterThan(0);
    expect(plan.progress.done.files).toBe(plan.fileCount);
    expect(plan.approvals.received).toEqual([expect.objectContaining({ actor: "token:e2e-reviewer", reason: "old CSV exports, checked with the team" })]);
    const stillStored = await api<{ data: unknown[] }>("/v1/files?mime=text/csv&stored=true&removed=false&limit=1000");
    expect(stillStored.data.length).toBe(0);
  });

  it("opens a stored weekly report as it was sent", async () => {
    const page = await signedIn();
    await page.getByRole("link", { name: "Reports" }).click();
    await page.locator("tbody a").first().click();
    await page.waitForURL(/\/dashboard\/reports\/[0-9a-f-]{36}$/);
    const frame = page.frameLocator("iframe.report");
    await expect.poll(() => frame.locator("body").textContent(), { timeout: 20_000 }).toMatch(/Uploads/);
    expect(await frame.locator("img").count()).toBeGreaterThan(0);
    await shot(page, "report");
  });

  it("shows a file named like markup as text, and runs none of it", async () => {
    const added = await fetch(`${demo.sandbox}/__sandbox/files`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ original_filename: XSS_NAME, metadata: { note: "<script>alert(2)</script>" }, mime_type: "image/png" }),
    });
    const uuid = ((await added.json()) as { uuids: string[] }).uuids[0]!;
    // Asked again while a running sync answers 409: one that planned its work before the upload may not bring it.
    await until("the sync to bring the file", async () => {
      if ((await api<{ data: unknown[] }>(`/v1/files?filename=${encodeURIComponent("onerror")}`)).data.length > 0) return true;
      await api("/v1/sync/files/run", { method: "POST" }).catch(() => undefined);
      return false;
    });

    const page = await signedIn();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${demo.base}/dashboard/files?filename=onerror`);
    expect(await page.getByRole("link", { name: XSS_NAME }).count()).toBe(1);
    await page.getByRole("link", { name: XSS_NAME }).click();
    await page.waitForURL(new RegExp(`${uuid}$`));
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(XSS_NAME);
    expect(await page.getByText("<script>alert(2)</script>").count()).toBe(1);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator("main script").count()).toBe(0);
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    await shot(page, "xss-file");
  });

  it("shows a viewer no approve or apply button, and refuses a forged POST without the CSRF token", async () => {
    const policy = await api<{ id: string }>("/v1/policies", {
      method: "POST",
      body: JSON.stringify({ name: "delete zips", action: "delete", conditions: [{ kind: "mime", types: ["application/zip"] }] }),
    });
    const plan = await api<{ id: string }>("/v1/plans", { method: "POST", body: JSON.stringify({ policy: policy.id }) });
    const viewer = await api<{ token: string }>("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "e2e-viewer", role: "viewer" }) });

    const viewerPage = await signedIn(viewer.token);
    await viewerPage.goto(`${demo.base}/dashboard/plans/${plan.id}`);
    expect(await viewerPage.getByText("You are signed in as a viewer").count()).toBe(1);
    expect(await viewerPage.getByRole("button", { name: /Approve|Apply|Propose/ }).count()).toBe(0);
    await shot(viewerPage, "viewer-plan");

    // The admin's browser is signed in; a request that carries its cookies but not the form's token is refused.
    const admin = await signedIn();
    const forged = await admin.request.post(`${demo.base}/dashboard/plans/${plan.id}/approve`, { form: { reason: "forged" } });
    expect(forged.status()).toBe(403);
    await admin.goto(`${demo.base}/dashboard/plans/${plan.id}`);
    const inPage = await admin.evaluate(async (id) => {
      const res = await fetch(`/dashboard/plans/${id}/approve`, { method: "POST", body: new URLSearchParams({ reason: "forged from script" }) });
      return res.status;
    }, plan.id);
    expect(inPage).toBe(403);
    const after = await api<{ status: string; approvals: { received: unknown[] } }>(`/v1/plans/${plan.id}`);
    expect(after.status).toBe("proposed");
    expect(after.approvals.received).toEqual([]);
    await admin.setContent(await forged.text());
    await shot(admin, "forged-post-refused");
  });

  it("is readable on a phone and reachable from the keyboard", async () => {
    const page = await signedIn(demo.token, { viewport: { width: 390, height: 844 } });
    await page.goto(`${demo.base}/dashboard/files`);
    // Wide tables scroll inside their own box; the page itself does not scroll sideways.
    expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate("document.activeElement?.id")).toBe("main");
    await shot(page, "files-phone");
  });
});
