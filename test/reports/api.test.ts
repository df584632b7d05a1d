import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiDeps } from "../../src/api/app.ts";
import type { ReportMailDeps } from "../../src/api/reports.ts";
import { getCharts, getReport, type StoredReport } from "../../src/db/queries/reports.ts";
import type { MailMessage } from "../../src/reports/mail.ts";
import { buildWeeklyReport } from "../../src/reports/weekly/build.ts";
import { apiHarness, type ApiHarness, type ErrorBody } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { addProject, AFTER_W13, BERLIN, PNG_SIGNATURE, seedDstWeek } from "./support.ts";

interface ReportJson {
  id: string;
  projectKey: string;
  label: string;
  charts: string[];
  links: { html: string; csv: string; text: string; charts: Record<string, string> };
  deliveries: { recipient: string; status: string; attempts: number; smtpResponse: string | null }[];
  content: { totals: { uploads: { current: number; previous: number } } };
}

interface Page {
  data: { id: string; projectKey: string; label: string; charts: string[] }[];
  nextCursor: string | null;
  total: number | null;
}

const MISSING = "7b0c2a54-0000-4000-8000-000000000000";

describe.each(backends)("reports API on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let withMail: ApiHarness;
  let report: StoredReport;
  let otherId: string;
  const sent: MailMessage[] = [];
  const P = `api-r-${kind}`;
  const Q = `api-q-${kind}`;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await seedDstWeek(database.db, P);
    await addProject(database.db, Q);
    const build = (projectKey: string, week: string) =>
      buildWeeklyReport({ db: database.db, now: () => AFTER_W13 }, { projectKey, week, timezone: BERLIN, publicUrl: "https://ledger.example" });
    const built = await build(P, "2026-W13");
    await build(P, "2026-W12");
    otherId = (await build(Q, "2026-W13")).id;
    report = (await getReport(database.db, built.id))!;
    api = await apiHarness(database);
    const reportMail: ReportMailDeps = {
      from: "reports@example.com",
      recipients: ["a@example.com", "b@example.com"],
      mailer: {
        async send(message) {
          sent.push(message);
          return { response: "250 2.0.0 queued", messageId: message.messageId };
        },
        close() {},
      },
    };
    withMail = await apiHarness(database, { reportMail } as Partial<ApiDeps>);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("lists reports newest period first, filtered by project, in pages", async () => {
    const all = await api.json<Page>(`/v1/reports?project=${P}`, { role: "viewer" });
    expect(all.status).toBe(200);
    expect(all.body.data.map((r) => r.label)).toEqual(["2026-W13", "2026-W12"]);
    expect(all.body.data[0]!.charts).toEqual(["api-requests", "mime-types", "storage", "traffic", "uploads"]);
    expect(all.body.total).toBe(2);

    const first = await api.json<Page>("/v1/reports?limit=1", { role: "viewer" });
    expect(first.body.data).toHaveLength(1);
    const second = await api.json<Page>(`/v1/reports?limit=5&cursor=${first.body.nextCursor}`, { role: "viewer" });
    const seen = [...first.body.data, ...second.body.data].map((r) => r.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([report.id, otherId]));
  });

  it("answers 400 naming the parameter, 404 for an unknown project, 401 without a token", async () => {
    const badLimit = await api.json<ErrorBody>("/v1/reports?limit=0");
    expect([badLimit.status, badLimit.body.error.code]).toEqual([400, "BAD_REQUEST"]);
    expect(badLimit.body.error.message).toMatch(/^limit: /);
    const badKind = await api.json<ErrorBody>("/v1/reports?kind=monthly");
    expect(badKind.status).toBe(400);
    expect(badKind.body.error.message).toMatch(/^kind(\.0)?: must be one of weekly/);
    const unknown = await api.json<ErrorBody>("/v1/reports?project=nope");
    expect([unknown.status, unknown.body.error.message]).toEqual([404, "project nope not found"]);
    const anonymous = await api.json<ErrorBody>("/v1/reports", { role: null });
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, "UNAUTHORIZED"]);
  });

  it("serves a report as JSON by default, with links, charts and deliveries", async () => {
    const { status, body } = await api.json<ReportJson>(`/v1/reports/${report.id}`, { role: "viewer" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: report.id, projectKey: P, label: "2026-W13", deliveries: [] });
    expect(body.content).toEqual(report.content);
    expect(body.content.totals.uploads).toEqual({ current: 3, previous: 1 });
    expect(body.links.charts["uploads"]).toBe(`/v1/reports/${report.id}/charts/uploads.png`);
  });

  it("serves the stored CSV and text, by ?format= or by Accept", async () => {
    const csv = await api.call(`/v1/reports/${report.id}?format=csv`, { role: "viewer" });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe(`attachment; filename="ucledger-${P}-2026-W13.csv"`);
    expect(await csv.text()).toBe(report.csv);
    const byAccept = await api.call(`/v1/reports/${report.id}`, { role: "viewer", headers: { Accept: "text/csv" } });
    expect(await byAccept.text()).toBe(report.csv);
    const text = await api.call(`/v1/reports/${report.id}`, { role: "viewer", headers: { Accept: "text/plain" } });
    expect(await text.text()).toBe(report.text);
  });

  it("serves HTML with the charts inside the page, since a browser sends no token for images", async () => {
    const res = await api.call(`/v1/reports/${report.id}`, { role: "viewer", headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("img-src data:");
    const html = await res.text();
    const [uploads] = await getCharts(database.db, P, report.id, "uploads");
    expect(html).toContain(`src="data:image/png;base64,${uploads!.png.toString("base64")}"`);
    expect(html).not.toContain("cid:");
    expect(html.replace(/src="data:image\/png;base64,[^"]+"/g, "")).toBe(report.html.replace(/src="cid:[^"]+"/g, ""));
  });

  it("serves a chart as PNG, 404 for a chart it does not have, 400 for a name that is not one", async () => {
    const res = await api.call(`/v1/reports/${report.id}/charts/storage.png`, { role: "viewer" });
    expect([res.status, res.headers.get("content-type")]).toEqual([200, "image/png"]);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(body.equals((await getCharts(database.db, P, report.id, "storage"))[0]!.png)).toBe(true);
    const missing = await api.json<ErrorBody>(`/v1/reports/${report.id}/charts/pie.png`);
    expect([missing.status, missing.body.error.code]).toEqual([404, "NOT_FOUND"]);
    const bad = await api.json<ErrorBody>(`/v1/reports/${report.id}/charts/uploads.gif`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^file: must be a chart name followed by \.png/);
  });

  it("answers 400 for a malformed id or format and 404 for an unknown report", async () => {
    const badId = await api.json<ErrorBody>("/v1/reports/not-a-uuid");
    expect([badId.status, badId.body.error.message]).toEqual([400, "id: must be a UUID"]);
    const badFormat = await api.json<ErrorBody>(`/v1/reports/${report.id}?format=pdf`);
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.message).toMatch(/^format: must be one of json, html, csv, text/);
    const unknown = await api.json<ErrorBody>(`/v1/reports/${MISSING}`);
    expect([unknown.status, unknown.body.error.message]).toEqual([404, `report ${MISSING} not found`]);
    const unknownChart = await api.json<ErrorBody>(`/v1/reports/${MISSING}/charts/uploads.png`);
    expect(unknownChart.status).toBe(404);
  });

  it("lets only operators send: 401 without a token, 403 for a viewer", async () => {
    const anonymous = await withMail.json<ErrorBody>(`/v1/reports/${report.id}/send`, { method: "POST", role: null });
    expect(anonymous.status).toBe(401);
    const viewer = await withMail.json<ErrorBody>(`/v1/reports/${report.id}/send`, { method: "POST", role: "viewer" });
    expect([viewer.status, viewer.body.error.code]).toEqual([403, "FORBIDDEN"]);
    expect(viewer.body.error.message).toMatch(/has role viewer; this needs operator or above/);
    expect(sent).toHaveLength(0);
  });

  it("answers 409 when the server has no SMTP settings, 404 for an unknown report", async () => {
    const noMail = await api.json<ErrorBody>(`/v1/reports/${report.id}/send`, { method: "POST", role: "operator" });
    expect([noMail.status, noMail.body.error.code]).toEqual([409, "CONFLICT"]);
    const unknown = await withMail.json<ErrorBody>(`/v1/reports/${MISSING}/send`, { method: "POST", role: "operator" });
    expect(unknown.status).toBe(404);
  });

  it("sends to the recipients not yet sent, and a second call sends nothing again", async () => {
    const first = await withMail.json<{ reportId: string; deliveries: ReportJson["deliveries"] }>(`/v1/reports/${otherId}/send`, { method: "POST", role: "operator" });
    expect(first.status).toBe(200);
    expect(first.body.deliveries.map((d) => [d.recipient, d.status, d.attempts, d.smtpResponse])).toEqual([
      ["a@example.com", "sent", 1, "250 2.0.0 queued"],
      ["b@example.com", "sent", 1, "250 2.0.0 queued"],
    ]);
    const again = await withMail.json<{ deliveries: ReportJson["deliveries"] }>(`/v1/reports/${otherId}/send`, { method: "POST", role: "admin" });
    expect(again.body.deliveries.map((d) => [d.status, d.attempts])).toEqual([
      ["sent", 1],
      ["sent", 1],
    ]);
    expect(sent.map((m) => m.to).sort()).toEqual(["a@example.com", "b@example.com"]);
    const shown = await api.json<ReportJson>(`/v1/reports/${otherId}`, { role: "viewer" });
    expect(shown.body.deliveries.map((d) => d.status)).toEqual(["sent", "sent"]);
  });
});
