import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../../src/env.ts";
import { createSmtpMailer } from "../../src/reports/mail.ts";
import { startSmtp, type TestSmtp } from "../reports/support.ts";

describe("REPORT_FROM with a display name", () => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it.each([["ucledger <ledger@example.com>"], ['"Ledger, weekly" <ledger@example.com>'], ["ledger@example.com"]])(
    "sends %s on a real SMTP server: the envelope carries the address, the From header the name",
    async (from) => {
      const env = parseEnv({ SMTP_URL: smtp.url, REPORT_FROM: from, REPORT_RECIPIENTS: "ops@example.com" });
      const mailer = createSmtpMailer(env.mail.smtpUrl!);
      try {
        const before = smtp.received.length;
        const sent = await mailer.send({
          from: env.mail.from!,
          to: env.mail.recipients[0]!,
          subject: "weekly",
          html: "<p>hi</p>",
          text: "hi",
          attachments: [],
          messageId: `<${before}.test@ucledger.report>`,
          headers: {},
        });
        expect(sent.response).toMatch(/^250/);
        const mail = smtp.received[before]!;
        expect(mail.from).toBe("ledger@example.com");
        expect(mail.to).toEqual(["ops@example.com"]);
        const header = /^From: (.*)$/m.exec(mail.raw.toString("utf8"))?.[1];
        if (from.includes("<")) expect(header).toMatch(/^"?(ucledger|Ledger, weekly)"? <ledger@example\.com>\r?$/);
        else expect(header).toMatch(/^ledger@example\.com\r?$/);
      } finally {
        mailer.close();
      }
    },
  );
});
