import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomPort, startServer, waitForHealth } from "../support/server.ts";
import { until as waitFor } from "../support/wait.ts";

/**
 * Bulk tagging in Debian's Chromium against `npm start` in demo mode: the
 * files of a filter are tagged through a plan (proposed from the tag page,
 * approved by someone else, applied), and a file's page shows the new
 * metadata. Screenshots under test-output/dashboard/.
 */

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = fileURLToPath(new URL("../../test-output/dashboard/", import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env["CI"]) throw new Error(`${CHROMIUM} is missing: the dashboard's browser tests cannot run`);

describe.skipIf(!hasChromium)("tagging the files of a filter through a plan (demo mode, Chromium)", () => {
  let base: string;
  let token: string;
  let sandbox: string;
  let stop: () => Promise<void>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  async function api<T>(path: string, init: RequestInit = {}, as = token): Promise<T> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${as}`);
    if (init.body) headers.set("content-type", "application/json");
    const res = await fetch(`${base}${path}`, { ...init, headers });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return (res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text) as T;
  }

  const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>) => waitFor(what, probe, { timeoutMs: 90_000, intervalMs: 250 });

  async function signedIn(as: string): Promise<Page> {
    const context = await browser.newContext({ timezoneId: "UTC", viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/dashboard/sign-in`);
    await page.getByLabel("API token").fill(as);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/dashboard`);
    return page;
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const port = randomPort();
    const server = startServer({ UCLEDGER_DATA_DIR: mkdtempSync(join(tmpdir(), "ucl-dash-tag-")), PORT: String(port) });
    await waitForHealth(port, 90_000);
    const { stdout } = server.output();
    token = /demo admin token[^:]*: (ucl_[A-Za-z0-9_-]+)/.exec(stdout)?.[1] ?? "";
    sandbox = /"sandbox":"(http:\/\/[^"]+)"/.exec(stdout)?.[1] ?? "";
    if (!token || !sandbox) throw new Error(`the demo server printed no token or sandbox address:\n${stdout}`);
    base = `http://127.0.0.1:${port}`;
    stop = async () => {
      server.child.kill("SIGTERM");
      await server.exited;
    };
    browser = await chromium.launch({ executablePath: CHROMIUM });
    await until("the demo's first sync", async () => (await api<{ total: number }>("/v1/files?limit=1&count=exact")).total > 1000);
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await stop?.();
  });

  it("proposes a tag plan from the filter, has someone else approve it, applies it, and the file page shows the new metadata", async () => {
    const added = await fetch(`${sandbox}/__sandbox/files`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: 6, metadata: { e2e_batch: "tagme" }, mime_type: "image/png", datetime_uploaded: new Date(Date.now() - 5 * 86_400_000).toISOString() }),
    });
    const uuids = ((await added.json()) as { uuids: string[] }).uuids;
    expect(uuids).toHaveLength(6);
    // The demo's first sync may still be running (its backfill shows files page by page) and answer
    // 409; it may not list files uploaded after it planned its slices, so ask again until one brings them.
    const listed = await until("the sync to bring the files", async () => {
      const page = await api<{ data: { uuid: string; projectKey: string }[] }>("/v1/files?metadata=e2e_batch%3Dtagme&limit=50");
      if (page.data.length === 6) return page.data;
      await api("/v1/sync/files/run?full=true", { method: "POST" }).catch(() => undefined);
      return null;
    });
    const project = listed[0]!.projectKey;

    const page = await signedIn(token);
    await page.goto(`${base}/dashboard/tag?project=${encodeURIComponent(project)}&metadata=${encodeURIComponent("e2e_batch=tagme")}`);
    expect(await page.locator("[data-total]").textContent()).toBe("6");
    await page.getByLabel("Metadata key").fill("campaign");
    await page.getByLabel(/^Value/).fill("spring-e2e");
    await page.screenshot({ path: join(SCREENSHOTS, "tag-form.png"), fullPage: true });
    await page.getByRole("button", { name: "Propose a tag plan" }).click();
    await page.waitForURL(/\/dashboard\/plans\/[0-9a-f-]{36}\?done=proposed$/);
    const planId = new URL(page.url()).pathname.split("/").at(-1)!;
    const proposed = await api<{ action: string; fileCount: number; policy: { tag: unknown } }>(`/v1/plans/${planId}`);
    expect(proposed).toMatchObject({ action: "tag", fileCount: 6, policy: { tag: { set: { campaign: "spring-e2e" } } } });

    // Four eyes: someone else approves; then the proposer applies.
    const reviewer = await api<{ token: string }>("/v1/tokens", { method: "POST", body: JSON.stringify({ name: "e2e-tag-reviewer", role: "operator" }) });
    const other = await signedIn(reviewer.token);
    await other.goto(`${base}/dashboard/plans/${planId}`);
    await other.getByLabel("Why approve?").fill("campaign tags for the spring batch");
    await other.getByRole("button", { name: "Approve" }).click();
    await other.waitForURL(/done=approve$/);
    await page.reload();
    await page.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/done=apply$/);
    await expect.poll(() => page.locator(".badge").filter({ hasText: /^applied$/ }).count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, "tag-plan-applied.png"), fullPage: true });
    const applied = await api<{ status: string; progress: { done: { files: number } } }>(`/v1/plans/${planId}`);
    expect(applied).toMatchObject({ status: "applied", progress: { done: { files: 6 } } });

    // The file's page shows the metadata the plan wrote.
    await page.goto(`${base}/dashboard/files/${encodeURIComponent(project)}/${uuids[0]}`);
    const metadata = page.getByRole("heading", { name: "Metadata", exact: true }).locator("xpath=following-sibling::dl[1]");
    await expect.poll(() => metadata.textContent()).toContain("campaign");
    expect(await metadata.textContent()).toContain("spring-e2e");
    expect(await metadata.textContent()).toContain("tagme");
    await page.screenshot({ path: join(SCREENSHOTS, "tag-file-metadata.png"), fullPage: true });
  }, 180_000);
});
