import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimDelivery, listDeliveries } from "../../src/db/queries/reports-deliveries.ts";
import { getReport } from "../../src/db/queries/reports.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { MAX_ATTEMPTS, resendReport, retryDueDeliveries, sendReport, type DeliveryDeps } from "../../src/reports/deliver.ts";
import { createSmtpMailer } from "../../src/reports/mail.ts";
import { reportDeliveryCounts } from "../../src/reports/metrics.ts";
import { buildWeeklyReport } from "../../src/reports/weekly/build.ts";
import type { WeeklyReport } from "../../src/reports/weekly/compute.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { addProject, AFTER_W13, BERLIN, seedDstWeek, startSmtp, type TestSmtp } from "./support.ts";

const MINUTE = 60_000;
const RECIPIENTS = ["a@example.com", "b@example.com"];

describe.each(backends)("report deliveries when the SMTP server refuses on %s", (kind) => {
  let database: TestDatabase;
  let smtp: TestSmtp;
  let clock: Date;
  let deps: DeliveryDeps;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    smtp = await startSmtp();
    clock = AFTER_W13;
    deps = { db: database.db, mailer: createSmtpMailer(smtp.url, { timeoutMs: 5_000 }), from: "reports@example.com", logger: silentLogger, now: () => clock };
  });
  afterAll(async () => {
    await smtp?.close();
    await database?.close();
  });

  const at = (minutes: number) => new Date(AFTER_W13.getTime() + minutes * MINUTE);
  const received = (to: string, reportId: string) =>
    smtp.received.filter((m) => m.to.includes(to) && m.raw.toString("utf8").includes(`X-Ucledger-Report: ${reportId}`)).length;

  async function storedReport(projectKey: string, week = "2026-W13"): Promise<string> {
    const built = await buildWeeklyReport({ db: database.db, now: () => AFTER_W13 }, { projectKey, week, timezone: BERLIN, publicUrl: "http://x" });
    return built.id;
  }

  it("records a refused send as failed with the server's answer, retries with backoff, and sends each recipient once after recovery", async () => {
    const P = `dl-${kind}`;
    await seedDstWeek(database.db, P);
    const id = await storedReport(P);

    smtp.refuse = { code: 451, message: "4.3.0 Mail server temporarily unavailable" };
    clock = at(0);
    let deliveries = await sendReport(deps, { reportId: id, recipients: RECIPIENTS });
    expect(deliveries.map((d) => [d.recipient, d.status, d.attempts, d.nextAttemptAt])).toEqual([
      ["a@example.com", "failed", 1, at(5).toISOString().replace("Z", "000Z")],
      ["b@example.com", "failed", 1, at(5).toISOString().replace("Z", "000Z")],
    ]);
    expect(deliveries[0]!.smtpResponse).toMatch(/^451 4\.3\.0 Mail server temporarily unavailable/);

    // Not due yet: the retry pass leaves them alone.
    clock = at(4);
    expect(await retryDueDeliveries(deps, { projectKey: P })).toEqual({ attempted: 0, sent: 0 });

    // Due, still refused: a second failed attempt, backing off further.
    clock = at(6);
    expect(await retryDueDeliveries(deps, { projectKey: P })).toEqual({ attempted: 2, sent: 0 });
    deliveries = await listDeliveries(database.db, P, id);
    expect(deliveries.map((d) => [d.status, d.attempts, d.nextAttemptAt])).toEqual([
      ["failed", 2, at(21).toISOString().replace("Z", "000Z")],
      ["failed", 2, at(21).toISOString().replace("Z", "000Z")],
    ]);

    // The server recovers; the next pass after the backoff sends both.
    smtp.refuse = null;
    clock = at(21);
    expect(await retryDueDeliveries(deps, { projectKey: P })).toEqual({ attempted: 2, sent: 2 });
    deliveries = await listDeliveries(database.db, P, id);
    expect(deliveries.map((d) => [d.status, d.attempts, d.nextAttemptAt])).toEqual([
      ["sent", 3, null],
      ["sent", 3, null],
    ]);
    expect(deliveries[0]!.smtpResponse).toMatch(/^250 /);

    // Every later pass, send and resend leaves sent rows alone.
    clock = at(600);
    expect(await retryDueDeliveries(deps, { projectKey: P })).toEqual({ attempted: 0, sent: 0 });
    await sendReport(deps, { reportId: id, recipients: RECIPIENTS });
    await resendReport(deps, { reportId: id, recipients: RECIPIENTS });
    expect(RECIPIENTS.map((r) => received(r, id))).toEqual([1, 1]);

    const attempts = await queryRows<{ recipient: string; attempt: number; outcome: string; smtp_response: string | null }>(
      database.db,
      sql`select recipient, attempt, outcome, smtp_response from report_delivery_attempts where project_key = ${P} order by recipient, attempt`,
    );
    expect(attempts.map((a) => [a.recipient, a.attempt, a.outcome])).toEqual([
      ["a@example.com", 1, "failed"],
      ["a@example.com", 2, "failed"],
      ["a@example.com", 3, "sent"],
      ["b@example.com", 1, "failed"],
      ["b@example.com", 2, "failed"],
      ["b@example.com", 3, "sent"],
    ]);
    expect(attempts[0]!.smtp_response).toMatch(/^451 /);

    // The next week's report tells of the failed attempts (they happened in 2026-W14).
    const nextId = (await buildWeeklyReport({ db: database.db, now: () => new Date("2026-04-06T06:00:00Z") }, { projectKey: P, week: "2026-W14", timezone: BERLIN, publicUrl: "http://x" })).id;
    const next = (await getReport(database.db, nextId))!.content as unknown as WeeklyReport;
    expect(next.deliveries).toEqual({ failedAttempts: { current: 4, previous: 0 }, deliveries: { current: 2, previous: 0 }, gaveUp: { current: 0, previous: 0 } });
  });

  it("lets only one of two concurrent retry passes send each message", async () => {
    const P = `dl-race-${kind}`;
    await addProject(database.db, P);
    const id = await storedReport(P);
    smtp.refuse = { code: 421, message: "4.4.2 Timeout" };
    clock = at(0);
    await sendReport(deps, { reportId: id, recipients: RECIPIENTS });
    smtp.refuse = null;
    clock = at(10);
    const results = await Promise.all([retryDueDeliveries(deps, { projectKey: P }), retryDueDeliveries(deps, { projectKey: P })]);
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(2);
    expect(RECIPIENTS.map((r) => received(r, id))).toEqual([1, 1]);
  });

  it("gives up after the last attempt, and a resend by hand tries once more", async () => {
    const P = `dl-giveup-${kind}`;
    await addProject(database.db, P);
    const id = await storedReport(P);
    smtp.refuse = { code: 550, message: "5.1.1 Mailbox unavailable" };
    clock = at(0);
    await sendReport(deps, { reportId: id, recipients: ["c@example.com"] });
    for (let i = 2; i <= MAX_ATTEMPTS + 1; i++) {
      clock = new Date(clock.getTime() + 7 * 60 * MINUTE);
      await retryDueDeliveries(deps, { projectKey: P });
    }
    const [row] = await listDeliveries(database.db, P, id);
    expect(row).toMatchObject({ status: "gave_up", attempts: MAX_ATTEMPTS, nextAttemptAt: null });
    expect(row!.smtpResponse).toMatch(/^550 /);

    smtp.refuse = null;
    const after = await resendReport(deps, { reportId: id, recipients: ["c@example.com"] });
    expect(after.map((d) => [d.status, d.attempts])).toEqual([["sent", MAX_ATTEMPTS + 1]]);
    expect(received("c@example.com", id)).toBe(1);
  });

  it("never retries a send interrupted after its claim (it may have gone out), but says so", async () => {
    const P = `dl-crash-${kind}`;
    await addProject(database.db, P);
    const id = await storedReport(P);
    clock = at(0);
    await database.db.execute(sql`insert into report_deliveries (project_key, report_id, recipient, status, attempts, next_attempt_at, created_at, updated_at)
      values (${P}, ${id}::uuid, 'd@example.com', 'queued', 0, ${at(0).toISOString()}::timestamptz, now(), now())`);
    // A sender claims the row and dies before recording anything.
    expect(await claimDelivery(database.db, { projectKey: P, reportId: id, recipient: "d@example.com" }, at(0))).not.toBeNull();
    expect(await claimDelivery(database.db, { projectKey: P, reportId: id, recipient: "d@example.com" }, at(0))).toBeNull();

    clock = at(10);
    expect(await retryDueDeliveries(deps, { projectKey: P })).toEqual({ attempted: 0, sent: 0 });
    clock = at(20);
    expect(await retryDueDeliveries(deps, { projectKey: P })).toEqual({ attempted: 0, sent: 0 });
    const [row] = await listDeliveries(database.db, P, id);
    expect(row).toMatchObject({ status: "gave_up", attempts: 1 });
    expect(row!.lastError).toMatch(/interrupted while sending/);
    expect(received("d@example.com", id)).toBe(0);
    const [attempt] = await queryRows<{ outcome: string }>(database.db, sql`select outcome from report_delivery_attempts where project_key = ${P}`);
    expect(attempt!.outcome).toBe("interrupted");
  });

  it("counts deliveries by status for the metrics gauge, zeros included", async () => {
    const counts = await reportDeliveryCounts(database.db);
    const of = (projectKey: string) => Object.fromEntries(counts.filter((c) => c.projectKey === projectKey).map((c) => [c.status, c.count]));
    expect(of(`dl-${kind}`)).toEqual({ queued: 0, sending: 0, sent: 2, failed: 0, gave_up: 0 });
    expect(of(`dl-crash-${kind}`)).toEqual({ queued: 0, sending: 0, sent: 0, failed: 0, gave_up: 1 });
  });
});
