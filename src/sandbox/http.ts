// The sandbox's own request/response types for the Uploadcare surfaces. They
// keep handlers free of hono and let the pipeline in app.ts apply auth,
// faults, truncation and logging in one place.

export interface ApiRequest {
  method: string;
  /** Decoded path, e.g. "/files/<uuid>/metadata/key/". */
  path: string;
  /** Path and query exactly as received: what a signature covers. */
  rawUri: string;
  query: URLSearchParams;
  /** Header lookup, case-insensitive, raw values. */
  header(name: string): string | undefined;
  bodyBytes: Uint8Array;
  bodyText: string;
  params: Record<string, string>;
  requestId: string;
  /** Public key of the authenticated caller (REST) or the addressed project (Project API). */
  publicKey: string | null;
}

export interface ApiResult {
  status: number;
  /** Serialised as JSON unless `text` is set. Absent for 204. */
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (req: ApiRequest) => ApiResult | Promise<ApiResult>;

export function ok(body: unknown, status = 200): ApiResult {
  return { status, body };
}

/** Uploadcare's error shape: `{"detail": "<sentence>"}`. */
export function detail(status: number, text: string): ApiResult {
  return { status, body: { detail: text } };
}

export const notFound = (): ApiResult => detail(404, "Not found.");
export const noContent = (): ApiResult => ({ status: 204 });

/** Parses a JSON body; `undefined` when empty, throws BadJson when invalid. */
export class BadJson extends Error {}

export function jsonBody(req: ApiRequest): unknown {
  if (req.bodyText.trim() === "") return undefined;
  try {
    return JSON.parse(req.bodyText);
  } catch {
    throw new BadJson("JSON parse error");
  }
}

/** A JSON or form body as a flat object (webhook endpoints accept both). */
export function objectBody(req: ApiRequest): Record<string, unknown> | null {
  const type = (req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    return Object.fromEntries(new URLSearchParams(req.bodyText));
  }
  const parsed = jsonBody(req);
  if (parsed === undefined) return {};
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  return parsed as Record<string, unknown>;
}

/** "true"/"false" in any of the spellings clients send; undefined when absent, null when invalid. */
export function parseBool(value: unknown): boolean | undefined | null {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "boolean") return value;
  const s = String(value).toLowerCase();
  if (s === "true" || s === "1" || s === "yes" || s === "on") return true;
  if (s === "false" || s === "0" || s === "no" || s === "off") return false;
  return null;
}

interface Route {
  pattern: RegExp;
  keys: string[];
  methods: Partial<Record<string, Handler>>;
}

export type RouteMatch =
  | { kind: "handler"; handler: Handler; params: Record<string, string> }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "not-found" };

/** Path-table router: the first route whose path matches decides (404 vs 405 + Allow). */
export class Router {
  private readonly routes: Route[] = [];

  add(path: string, methods: Partial<Record<string, Handler>>): this {
    const keys: string[] = [];
    const source = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, (_m, key: string) => {
      keys.push(key);
      return "([^/]+)";
    });
    this.routes.push({ pattern: new RegExp(`^${source}$`), keys, methods });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const handler = route.methods[method] ?? (method === "HEAD" ? route.methods["GET"] : undefined);
      if (!handler) return { kind: "method-not-allowed", allow: allowOf(route) };
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        params[k] = safeDecode(m[i + 1] as string);
      });
      return { kind: "handler", handler, params };
    }
    return { kind: "not-found" };
  }

  allowFor(path: string): string | undefined {
    const route = this.routes.find((r) => r.pattern.test(path));
    return route ? allowOf(route).join(", ") : undefined;
  }
}

function allowOf(route: Route): string[] {
  const methods = new Set(Object.keys(route.methods));
  if (methods.has("GET")) methods.add("HEAD");
  methods.add("OPTIONS");
  return [...methods].sort();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
