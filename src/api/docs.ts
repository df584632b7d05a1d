import { createRoute, z } from "@hono/zod-openapi";
import type { App, ApiDeps } from "./app.ts";
import { completeDocument, HTTP_METHODS, type OpenApiDocument } from "./openapi-document.ts";

/**
 * `/openapi.json` (OpenAPI 3.1, generated from the route contracts) and `/docs`,
 * a reference page rendered here from that same document as plain HTML: no
 * scripts, no CDN, so it works offline and always matches the code.
 */

type Json = Record<string, unknown>;


const openapiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["docs"],
  summary: "This API's OpenAPI 3.1 document; needs no token",
  responses: { 200: { description: "The document", content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } } },
});

const docsRoute = createRoute({
  method: "get",
  path: "/docs",
  tags: ["docs"],
  summary: "The API reference as HTML, rendered from the OpenAPI document; needs no token",
  responses: { 200: { description: "The page", content: { "text/html": { schema: z.string() } } } },
});

export function registerDocs(app: App, deps: ApiDeps) {
  let document: OpenApiDocument | undefined;
  let html: string | undefined;
  // Built on first use, once every route is registered; the routes never change after.
  const doc = () =>
    (document ??= completeDocument(app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "ucledger API",
        version: deps.version,
        description:
          "A ledger of Uploadcare projects: files, audit trail, usage and API logs. Send `Authorization: Bearer <token>` " +
          "(create one with `ucledger token create --name NAME --role viewer|operator|admin`). Errors answer " +
          '`{"error":{"code","message","requestId"}}`; every response carries X-Request-Id. List routes page with an opaque ' +
          "`cursor` and stream every row as CSV or NDJSON with `format=csv|ndjson` or the Accept header.",
      },
    }) as unknown as OpenApiDocument));

  app.openapi(openapiRoute, (c) => c.json(doc() as Record<string, unknown>, 200));
  app.openapi(docsRoute, (c) => c.html((html ??= renderDocs(doc())), 200));
}

export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Backticked words become <code>; everything is escaped first. */
function prose(text: unknown): string {
  return String(text ?? "")
    .split(/\n{2,}/)
    .filter((p) => p.trim() !== "")
    .map((p) => `<p>${escapeHtml(p).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>`)
    .join("");
}

export function operationId(method: string, path: string): string {
  return `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "");
}

function refName(ref: string): string {
  return ref.split("/").at(-1) ?? ref;
}

/** A one-line type: `string (date-time)`, `File[]`, `"asc" | "desc"`, `integer | null`. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return "any";
  if (typeof schema["$ref"] === "string") {
    const name = refName(schema["$ref"]);
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const parts = schema[key];
    if (Array.isArray(parts)) return parts.map((p) => typeOf(p as Json)).join(key === "allOf" ? " &amp; " : " | ");
  }
  if (Array.isArray(schema["enum"])) return schema["enum"].map((v) => escapeHtml(JSON.stringify(v))).join(" | ");
  const types = Array.isArray(schema["type"]) ? (schema["type"] as string[]) : schema["type"] ? [schema["type"] as string] : [];
  const rendered = types.map((t) => {
    if (t === "array") return `${typeOf(schema["items"] as Json | undefined)}[]`;
    if (t === "object" && schema["additionalProperties"] && typeof schema["additionalProperties"] === "object") {
      return `map of ${typeOf(schema["additionalProperties"] as Json)}`;
    }
    return escapeHtml(t);
  });
  const format = typeof schema["format"] === "string" ? ` (${escapeHtml(schema["format"])})` : "";
  return (rendered.join(" | ") || "any") + format;
}

function propertiesTable(schema: Json): string {
  const props = schema["properties"] as Record<string, Json> | undefined;
  if (!props) return `<p class="type">${typeOf(schema)}</p>`;
  const required = new Set((schema["required"] as string[] | undefined) ?? []);
  const rows = Object.entries(props).map(
    ([name, prop]) =>
      `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? "" : " <small>optional</small>"}</td><td>${typeOf(prop)}</td><td>${prose(prop["description"])}</td></tr>`,
  );
  return `<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function renderOperation(method: string, path: string, op: Json): string {
  const id = operationId(method, path);
  const params = (op["parameters"] as Json[] | undefined) ?? [];
  const paramRows = params.map((p) => {
    const schema = p["schema"] as Json | undefined;
    const description = p["description"] ?? schema?.["description"];
    return `<tr><td><code>${escapeHtml(p["name"])}</code></td><td>${escapeHtml(p["in"])}</td><td>${p["required"] ? "yes" : "no"}</td><td>${typeOf(schema)}</td><td>${prose(description)}</td></tr>`;
  });
  const body = (op["requestBody"] as Json | undefined)?.["content"] as Record<string, Json> | undefined;
  const bodyHtml = body
    ? Object.entries(body)
        .map(([type, media]) => `<h4>Body (${escapeHtml(type)})</h4>${propertiesTable((media["schema"] as Json | undefined) ?? {})}`)
        .join("")
    : "";
  const responses = Object.entries((op["responses"] as Record<string, Json> | undefined) ?? {}).map(([status, response]) => {
    const content = response["content"] as Record<string, Json> | undefined;
    const types = content
      ? Object.entries(content)
          .map(([type, media]) => `${escapeHtml(type)}: ${typeOf(media["schema"] as Json | undefined)}`)
          .join("<br>")
      : "";
    return `<tr><td>${escapeHtml(status)}</td><td>${prose(response["description"])}</td><td>${types}</td></tr>`;
  });
  const security = Array.isArray(op["security"]) && op["security"].length > 0 ? "bearer token" : "none";
  return `<section class="op" id="${escapeHtml(id)}">
<h3><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>
<p class="summary">${escapeHtml(op["summary"])}</p>${prose(op["description"])}
<p><small>Authentication: ${security}</small></p>
${paramRows.length ? `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Required</th><th>Type</th><th>Description</th></tr></thead><tbody>${paramRows.join("")}</tbody></table>` : ""}
${bodyHtml}
<h4>Responses</h4><table><thead><tr><th>Status</th><th>Description</th><th>Content</th></tr></thead><tbody>${responses.join("")}</tbody></table>
</section>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
code{font:13px ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}th{background:#fafafa}
.op{border-top:2px solid #eee;padding-top:.5em}.method{display:inline-block;min-width:4.5em;font-size:13px;color:#fff;background:#555;padding:.1em .4em;border-radius:3px;text-align:center}
.get{background:#2f6fb3}.post{background:#2e8b57}.delete{background:#b33a3a}.summary{font-weight:600}nav li{list-style:none}`;

export function renderDocs(doc: OpenApiDocument): string {
  const operations: { method: string; path: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op) operations.push({ method, path, op });
    }
  }
  const nav = operations
    .map(({ method, path, op }) => `<li><a href="#${escapeHtml(operationId(method, path))}"><code>${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</code></a> ${escapeHtml(op["summary"])}</li>`)
    .join("");
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(([name, schema]) => `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${prose(schema["description"])}${propertiesTable(schema)}</section>`)
    .join("");
  const info = doc.info ?? {};
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info["title"])} ${escapeHtml(info["version"])}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(info["title"])} <small>${escapeHtml(info["version"])}</small></h1>${prose(info["description"])}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<h2>Routes</h2><nav><ul>${nav}</ul></nav>
<h2>Reference</h2>${operations.map(({ method, path, op }) => renderOperation(method, path, op)).join("\n")}
<h2>Schemas</h2>${schemas}
</body></html>`;
}
