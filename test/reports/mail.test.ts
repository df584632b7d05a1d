import { simpleParser, type ParsedMail } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getCharts, getReport, reportIdFor, type StoredReport } from "../../src/db/queries/reports.ts";
import { listDeliveries } from "../../src/db/queries/reports-deliveries.ts";
import { silentLogger } from "../../src/logger.ts";
import { runWeeklyReportJob } from "../../src/reports/jobs.ts";
import { createSmtpMailer } from "../../src/reports/mail.ts";
import type { WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { parseCsv } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { AFTER_W13, BERLIN, darkPixels, decodePng, PNG_SIGNATURE, seedDstWeek, startSmtp, TITLE_BOX, type TestSmtp } from "./support.ts";

const PUBLIC_URL = "https://ledger.example.com";
const RECIPIENTS = ["Analyst@Example.com", "owner@example.com"];

describe.each(backends)("mailing the weekly report over real SMTP on %s", (kind) => {
  let database: TestDatabase;
  let smtp: TestSmtp;
  let stored: StoredReport;
  let messages: ParsedMail[];
  const P = `mail-${kind}`;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    smtp = await startSmtp();
    await seedDstWeek(database.db, P);
    const mailer = createSmtpMailer(smtp.url, { timeoutMs: 5_000 });
    const settings = { timezone: BERLIN, publicUrl: PUBLIC_URL, mail: { mailer, from: "ucledger <reports@ledger.example.com>", recipients: RECIPIENTS } };
    const ctx = { projectKey: P, slot: "2026-03-30T06:00:00.000000Z", fence: async () => {}, logger: silentLogger };
    await runWeeklyReportJob({ db: database.db, now: () => AFTER_W13 }, settings, ctx);
    // The scheduler catching up the same slot after a restart: nothing new goes out.
    await runWeeklyReportJob({ db: database.db, now: () => new Date(AFTER_W13.getTime() + 3_600_000) }, settings, ctx);
    stored = (await getReport(database.db, reportIdFor(P, "weekly", "2026-03-22T23:00:00Z")))!;
    messages = await Promise.all(smtp.received.map((m) => simpleParser(m.raw, { keepCidLinks: true })));
  });
  afterAll(async () => {
    await smtp?.close();
    await database?.close();
  });

  it("sends each recipient one message, once, and records the server's answer", async () => {
    expect(smtp.received.map((m) => m.to).sort()).toEqual([["analyst@example.com"], ["owner@example.com"]]);
    const deliveries = await listDeliveries(database.db, P, stored.id);
    expect(deliveries.map((d) => [d.recipient, d.status, d.attempts])).toEqual([
      ["analyst@example.com", "sent", 1],
      ["owner@example.com", "sent", 1],
    ]);
    for (const d of deliveries) expect(d.smtpResponse).toMatch(/^250 /);
    expect(messages[0]!.subject).toBe(`Weekly report 2026-W13 for DST ${P}: 3 uploads, storage −7.00 kB`);
    expect(messages[0]!.headers.get("x-ucledger-report")).toBe(stored.id);
  });

  it("has the stored HTML, laid out with tables, linking to the report in the API", () => {
    const html = messages[0]!.html as string;
    expect(html).toBe(stored.html);
    expect(html).toContain(`href="${PUBLIC_URL}/v1/reports/${stored.id}"`);
    expect(html).toMatch(/<table role="presentation"/);
    expect(html).not.toMatch(/src="data:/);
    expect(html).not.toMatch(/<style|class="/);
  });

  it("has a plain-text part with the same figures and the link", () => {
    const text = messages[0]!.text!;
    expect(text.replace(/\r\n/g, "\n").trimEnd()).toBe(stored.text.trimEnd());
    expect(text).toContain(`${PUBLIC_URL}/v1/reports/${stored.id}`);
    expect(text).toMatch(/Files uploaded\s+3\s+1\s+\+2/);
  });

  it("attaches every chart as an inline CID image that decodes as a PNG with its title drawn", async () => {
    const charts = await getCharts(database.db, P, stored.id);
    expect(charts.length).toBe(5);
    const html = messages[0]!.html as string;
    for (const chart of charts) {
      const attachment = messages[0]!.attachments.find((a) => a.cid === `${chart.name}@ucledger.report`);
      expect(attachment, chart.name).toBeDefined();
      expect(attachment!.contentType).toBe("image/png");
      expect(attachment!.contentDisposition).toBe("inline");
      expect(html).toContain(`src="cid:${chart.name}@ucledger.report"`);
      const png = attachment!.content;
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(png.equals(chart.png)).toBe(true);
      const image = decodePng(png);
      expect([image.width, image.height]).toEqual([chart.width * 2, chart.height * 2]);
      expect(darkPixels(image, TITLE_BOX), `title of ${chart.name}`).toBeGreaterThan(500);
    }
  });

  it("attaches the week's CSV with the same totals as the JSON", () => {
    const csvPart = messages[0]!.attachments.find((a) => a.contentType.startsWith("text/csv"))!;
    expect(csvPart.filename).toBe(`ucledger-${P}-2026-W13.csv`);
    const rows = parseCsv(csvPart.content.toString("utf8"));
    const content = stored.content as unknown as WeeklyReport;
    const value = (section: string, metric: string) => {
      const row = rows.find((r) => r[0] === section && r[1] === "week" && r[2] === metric)!;
      return { current: Number(row[4]), previous: Number(row[5]) };
    };
    expect(value("totals", "uploads")).toEqual(content.totals.uploads);
    expect(value("totals", "upload_bytes")).toEqual(content.totals.uploadBytes);
    expect(value("totals", "removed")).toEqual(content.totals.removed);
    expect(value("storage", "growth")).toEqual(content.storage.growthBytes);
    expect(value("api_requests", "errors")).toEqual(content.apiRequests.errors);
    expect(value("deletions", "files")).toEqual(content.deletions.files);
    expect(content.totals.uploads).toEqual({ current: 3, previous: 1 });
  });
});
