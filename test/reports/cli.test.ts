import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { parseCsv } from "../api/helpers.ts";
import { runCli } from "../support/cli.ts";
import { darkPixels, decodePng, startSmtp, TITLE_BOX } from "./support.ts";

// The real CLI on the demo project: no Uploadcare keys, so the built-in sandbox and embedded PGlite.
describe("ucledger report weekly on the demo project", () => {
  const work = mkdtempSync(join(tmpdir(), "ucledger-report-cli-"));
  const env = { UCLEDGER_DATA_DIR: join(work, "data") };
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("refuses a malformed week or --send without SMTP before touching anything", async () => {
    const week = await runCli(["report", "weekly", "--week", "2026-W99"], env);
    expect(week.code).toBe(2);
    expect(week.stderr).toContain("--week: '2026-W99' is not an ISO week such as 2026-W13");
    const monthly = await runCli(["report", "monthly"], env);
    expect([monthly.code, monthly.stderr.trim()]).toEqual([2, "usage: ucledger report weekly [--project KEY] [--week 2026-W47] [--send] [--out DIR]"]);
    const send = await runCli(["report", "weekly", "--send"], env);
    expect(send.code).toBe(2);
    expect(send.stderr).toContain("--send: SMTP_URL is not set");
    expect(existsSync(join(work, "data"))).toBe(false);
  }, 120_000);

  it("writes last week's report to a folder: HTML pointing at the PNGs beside it, CSV, text and JSON", async () => {
    const sync = await runCli(["sync", "files", "--full"], env);
    expect(sync.code, sync.stderr).toBe(0);
    const out = join(work, "out");
    const run = await runCli(["report", "weekly", "--out", out], env);
    expect(run.code, run.stderr).toBe(0);
    const [, projectKey, week] = /^(\S+) (\d{4}-W\d{2}): report [0-9a-f-]{36} \(new\) http:\/\/localhost:3000\/v1\/reports\//.exec(run.stdout) ?? [];
    expect(week, run.stdout).toBeDefined();
    const dir = join(out, `${projectKey}-${week}`);
    expect(readdirSync(dir).sort()).toEqual(["api-requests.png", "mime-types.png", "report.csv", "report.html", "report.json", "report.txt", "storage.png", "uploads.png"]);

    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).not.toContain("cid:");
    for (const name of ["uploads", "storage", "mime-types", "api-requests"]) {
      expect(html).toContain(`src="${name}.png"`);
      const image = decodePng(readFileSync(join(dir, `${name}.png`)));
      expect(image.width).toBe(1280);
      expect(darkPixels(image, TITLE_BOX)).toBeGreaterThan(500);
    }

    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as WeeklyReport;
    expect(report.period.week).toBe(week);
    // The demo project uploads every day; its last week is never empty.
    expect(report.totals.uploads.current).toBeGreaterThan(0);
    const csv = parseCsv(readFileSync(join(dir, "report.csv"), "utf8"));
    const uploads = csv.find((r) => r[0] === "totals" && r[2] === "uploads")!;
    expect([Number(uploads[4]), Number(uploads[5])]).toEqual([report.totals.uploads.current, report.totals.uploads.previous]);
    expect(readFileSync(join(dir, "report.txt"), "utf8")).toContain(`Files uploaded${" "}`);

    // A second run finds the stored report and writes the same files.
    const again = await runCli(["report", "weekly", "--out", out], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("(stored earlier)");
    expect(JSON.parse(readFileSync(join(dir, "report.json"), "utf8"))).toEqual(report);
  }, 240_000);

  it("mails the stored report with --send, once per recipient however often it runs", async () => {
    const smtp = await startSmtp();
    try {
      const mailEnv = { ...env, SMTP_URL: smtp.url, REPORT_FROM: "reports@example.com", REPORT_RECIPIENTS: "a@example.com, b@example.com" };
      const first = await runCli(["report", "weekly", "--send"], mailEnv);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/a@example\.com: sent \(250 /);
      expect(first.stdout).toMatch(/b@example\.com: sent \(250 /);
      const second = await runCli(["report", "weekly", "--send"], mailEnv);
      expect(second.code).toBe(0);
      expect(smtp.received.map((m) => m.to[0]).sort()).toEqual(["a@example.com", "b@example.com"]);
    } finally {
      await smtp.close();
    }
  }, 120_000);
});
