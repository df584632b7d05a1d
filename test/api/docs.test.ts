import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeHtml, operationId, renderDocs } from "../../src/api/docs.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, type ApiHarness } from "./helpers.ts";

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; security?: unknown[] }>>;
  components: { securitySchemes: Record<string, unknown> };
}

describe.each(backends)("OpenAPI document and /docs on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let doc: Doc;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database);
    doc = (await (await api.call("/openapi.json", { role: null })).json()) as Doc;
  });
  afterAll(async () => {
    await database?.close();
  });

  it("is OpenAPI 3.1 and describes every route the app serves", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes["bearerAuth"]).toMatchObject({ type: "http", scheme: "bearer" });
    // /metrics speaks Prometheus's text format, not JSON: it may stay out of the document.
    const outside = new Set(["get /metrics"]);
    const served = api.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`)
      .filter((r) => !outside.has(r))
      // The dashboard serves HTML pages, not API operations.
      .filter((r) => !/^(get|post) \/(dashboard.*)?$/.test(r));
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
      .filter((r) => !outside.has(r));
    expect(new Set(served)).toEqual(new Set(documented));
    for (const path of ["/v1/files", "/v1/files/{uuid}", "/v1/files/{uuid}/events", "/v1/events", "/v1/audit/verify", "/v1/usage", "/v1/api-logs", "/v1/sync/runs", "/v1/sync/{stream}/run", "/v1/stats/summary", "/v1/tokens", "/v1/tokens/{name}", "/v1/projects"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });

  it("renders /docs as self-contained HTML listing every route of the document", async () => {
    const res = await api.call("/docs", { role: null });
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations += 1;
        expect(html, `${method} ${path}`).toContain(`id="${operationId(method, path)}"`);
        expect(html).toContain(`<code>${method.toUpperCase()} ${escapeHtml(path)}</code>`);
        expect(html).toContain(escapeHtml(op.summary));
      }
    }
    expect(operations).toBeGreaterThanOrEqual(18);
    // Nothing to fetch: no scripts, no external stylesheets or images.
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    expect(html).toContain('<a href="#schema-File">File</a>');
  });

  it("escapes everything it renders", () => {
    const html = renderDocs({
      info: { title: "<b>t</b>", version: "1&2" },
      paths: {
        '/x/{"id"}': {
          get: {
            summary: "<script>alert(1)</script>",
            description: "a `<img src=x>` b",
            parameters: [{ name: "<p>", in: "query", schema: { type: "string", enum: ["<a>"] } }],
            responses: { "200": { description: "<i>ok</i>" } },
          },
        },
      },
      components: { schemas: { "<S>": { type: "object", properties: { "<f>": { type: "string", description: "<u>" } } } } },
    });
    for (const raw of ["<script>", "<img src=x>", "<b>t</b>", "<i>ok</i>", "<u>", "<S>", "<f>", '"<a>"', "<code><p>", '"id"']) {
      expect(html).not.toContain(raw);
    }
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("<code>&lt;img src=x&gt;</code>");
    expect(html).toContain("/x/{&quot;id&quot;}");
    expect(html).toContain("&quot;&lt;a&gt;&quot;");
  });
});
