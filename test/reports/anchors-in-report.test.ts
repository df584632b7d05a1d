import { simpleParser, type ParsedMail } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAnchorsFile } from "../../src/db/audit/anchor-file.ts";
import { generateAnchorKeyPem, parsePrivateKey, parsePublicKey, signerFrom } from "../../src/db/audit/anchor-key.ts";
import { verifyAgainstAnchors } from "../../src/db/audit/anchor-verify.ts";
import { takeAnchor, type Anchor } from "../../src/db/audit/anchors.ts";
import { appendEvents } from "../../src/db/audit/chain.ts";
import { getReport, reportIdFor } from "../../src/db/queries/reports.ts";
import { silentLogger } from "../../src/logger.ts";
import { runWeeklyReportJob } from "../../src/reports/jobs.ts";
import { createSmtpMailer } from "../../src/reports/mail.ts";
import type { WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { parseCsv } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { AFTER_W13, BERLIN, seedDstWeek, startSmtp, type TestSmtp } from "./support.ts";

const keys = generateAnchorKeyPem();
const signer = signerFrom(parsePrivateKey(keys.privateKey));
const publicKey = parsePublicKey(keys.publicKey);
const W13_START = "2026-03-22T23:00:00Z";

describe.each(backends)("the weekly report carries the latest signed anchors on %s", (kind) => {
  let database: TestDatabase;
  let smtp: TestSmtp;
  const SIGNED = `anchored-${kind}`;
  const UNSIGNED = `unanchored-${kind}`;
  const mails = new Map<string, ParsedMail>();
  let latest: Anchor;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    smtp = await startSmtp();
    await seedDstWeek(database.db, SIGNED);
    await seedDstWeek(database.db, UNSIGNED);
    // Two anchors: at the seed's event 2, then after one more event at 3.
    const first = await takeAnchor(database.db, SIGNED, signer, publicKey, new Date("2026-03-29T12:00:00Z"));
    expect(first.taken).toBe(true);
    await database.db.transaction((tx) =>
      appendEvents(tx, SIGNED, [
        { fileUuid: null, kind: "action", before: null, after: { note: "after the first anchor" }, occurredAt: null, observedAt: "2026-03-29T13:00:00Z", source: "action", runId: null, planId: null, actor: "cli:t" },
      ]),
    );
    const second = await takeAnchor(database.db, SIGNED, signer, publicKey, new Date("2026-03-29T14:00:00Z"));
    if (!second.taken) throw new Error("the second anchor was not taken");
    latest = second.anchor;

    const mailer = createSmtpMailer(smtp.url, { timeoutMs: 5_000 });
    for (const projectKey of [SIGNED, UNSIGNED]) {
      const recipient = `${projectKey}@example.com`;
      const settings = { timezone: BERLIN, publicUrl: "https://ledger.example.com", mail: { mailer, from: "reports@ledger.example.com", recipients: [recipient] } };
      const ctx = { projectKey, slot: "2026-03-30T06:00:00.000000Z", fence: async () => {}, logger: silentLogger };
      await runWeeklyReportJob({ db: database.db, now: () => AFTER_W13 }, settings, ctx);
      const received = smtp.received.find((m) => m.to.includes(recipient));
      if (!received) throw new Error(`no mail for ${projectKey}`);
      mails.set(projectKey, await simpleParser(received.raw));
    }
  });
  afterAll(async () => {
    await smtp?.close();
    await database?.close();
  });

  it("stores the newest anchors, newest first, in the report's JSON", async () => {
    const stored = (await getReport(database.db, reportIdFor(SIGNED, "weekly", W13_START)))!;
    const content = stored.content as unknown as WeeklyReport;
    expect(content.anchors.latest.map((a) => a.seq)).toEqual([3, 2]);
    expect(content.anchors.latest[0]).toEqual(latest);
  });

  it("mails the latest anchor's hash and signature in the HTML, the text and the CSV", () => {
    const mail = mails.get(SIGNED)!;
    const html = mail.html as string;
    expect(html).toContain("Signed audit anchors");
    expect(html).toContain(latest.hash);
    expect(html).toContain(latest.signature);
    const text = mail.text!;
    expect(text).toContain(latest.hash);
    expect(text).toContain(latest.signature);
    const csvPart = mail.attachments.find((a) => a.contentType.startsWith("text/csv"))!;
    const rows = parseCsv(csvPart.content.toString("utf8")).filter((r) => r[0] === "anchors");
    expect(rows.map((r) => [r[1], r[4]])).toEqual([["event 3", "3"], ["event 2", "2"]]);
    expect(rows[0]![6]).toContain(`hash ${latest.hash}`);
    expect(rows[0]![6]).toContain(`signature ${latest.signature}`);
  });

  it("mails JSON lines that audit verify --anchors reads and that hold against the ledger", async () => {
    const lines = mails.get(SIGNED)!.text!.split(/\r?\n/).filter((l) => l.startsWith("{"));
    const fileAnchors = parseAnchorsFile(lines.join("\n"));
    expect(fileAnchors).toEqual([latest, expect.objectContaining({ seq: 2 })]);
    const report = await verifyAgainstAnchors(database.db, SIGNED, { publicKeys: [keys.publicKey], fileAnchors, full: true, remember: false });
    expect(report).toMatchObject({ ok: true, anchors: { file: 2 } });
  });

  it("says that no key is set when the project has no anchors", async () => {
    const mail = mails.get(UNSIGNED)!;
    expect(mail.text!.replace(/\s+/g, " ")).toContain("No signed anchors: UCLEDGER_AUDIT_KEY is not set");
    expect((mail.html as string).replace(/\s+/g, " ")).toContain("No signed anchors: UCLEDGER_AUDIT_KEY is not set");
    const csvPart = mail.attachments.find((a) => a.contentType.startsWith("text/csv"))!;
    const rows = parseCsv(csvPart.content.toString("utf8")).filter((r) => r[0] === "anchors");
    expect(rows).toEqual([["anchors", "latest", "signed", "", "", "", expect.stringContaining("no signed anchors: UCLEDGER_AUDIT_KEY is not set")]]);
    const stored = (await getReport(database.db, reportIdFor(UNSIGNED, "weekly", W13_START)))!;
    expect((stored.content as unknown as WeeklyReport).anchors).toEqual({ latest: [] });
  });
});
