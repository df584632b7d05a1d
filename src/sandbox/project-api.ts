import type { SandboxContext } from "./context.ts";
import { Router, ok, type ApiRequest, type ApiResult } from "./http.ts";
import { dayNumber, dayToIso, parseIsoDay } from "./time.ts";
import { METRICS, UNITS, type Metric } from "./usage.ts";

// The Project API's project and usage endpoints (reference section 13):
// Bearer auth, no versioned Accept, errors as {"message", "code"}.

export const USAGE_WINDOW_DAYS = 90;

export function projectError(status: number, code: string, message: string): ApiResult {
  return { status, body: { message, code }, contentType: "application/json" };
}

const json = (body: unknown): ApiResult => ({ ...ok(body), contentType: "application/json" });

/** Bearer token check; null when the caller may proceed. */
export function checkBearer(req: ApiRequest, ctx: SandboxContext): ApiResult | null {
  const header = req.header("authorization");
  if (!header) return projectError(401, "not_authenticated", "Authentication credentials were not provided.");
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m) return projectError(401, "authentication_failed", "Invalid token header. Use `Authorization: Bearer <token>`.");
  const token = m[1] as string;
  // [inf] A project's REST secret key is not an account token: recognised but refused.
  if (token === ctx.keys.secretKey) return projectError(403, "permission_denied", "You do not have permission to perform this action.");
  if (token !== ctx.keys.projectApiToken) return projectError(401, "authentication_failed", "Invalid token.");
  return null;
}

function projectJson(ctx: SandboxContext): Record<string, unknown> {
  return {
    pub_key: ctx.keys.publicKey,
    name: ctx.keys.projectName,
    is_blocked: false,
    is_search_index_allowed: false,
    is_shared_project: false,
    features: {
      uploads: { filesize_limit: 5 * 1024 ** 3, autostore: true, image_resolution_limit: null, is_signed_upload_enabled: false },
      mime_type_filtering: { enabled: false },
      malware_protection: { enabled: true },
      svg_validation: { enabled: true },
      video_processing: { enabled: true },
      gif_to_video_conversion: { enabled: false },
      team_members: { enabled: true },
    },
  };
}

/** Validates from/to: YYYY-MM-DD, from ≤ to, at most 90 days, `to` before today (UTC, sandbox clock). */
function readRange(req: ApiRequest, ctx: SandboxContext): { from: number; to: number } | ApiResult {
  const days: Record<string, number> = {};
  for (const name of ["from", "to"]) {
    const raw = req.query.get(name);
    if (raw === null || raw === "") return projectError(400, "invalid_date_range", `\`${name}\` is required (YYYY-MM-DD).`);
    const day = parseIsoDay(raw);
    if (day === null) return projectError(400, "invalid_date_range", `\`${name}\` must be a date in YYYY-MM-DD format.`);
    days[name] = day;
  }
  const from = days["from"] as number;
  const to = days["to"] as number;
  if (from > to) return projectError(400, "invalid_date_range", "`from` must not be after `to`.");
  if (to - from + 1 > USAGE_WINDOW_DAYS) return projectError(400, "invalid_date_range", `The date range must not exceed ${USAGE_WINDOW_DAYS} days.`);
  if (to >= dayNumber(ctx.clock.nowUs())) {
    return projectError(400, "invalid_date_range", "`to` must be before today (UTC): the API does not accept today or future dates.");
  }
  return { from, to };
}

function isRange(x: { from: number; to: number } | ApiResult): x is { from: number; to: number } {
  return typeof (x as { from: number }).from === "number";
}

export function registerProjectApiRoutes(router: Router, ctx: SandboxContext): void {
  const known = (req: ApiRequest) => req.params["pub_key"] === ctx.keys.publicKey;
  const unknownProject = () => projectError(404, "not_found", "Not found.");

  router.add("/projects/", { GET: () => json({ next: null, results: [projectJson(ctx)] }) });
  router.add("/projects/:pub_key/", { GET: (req) => (known(req) ? json(projectJson(ctx)) : unknownProject()) });

  router.add("/projects/:pub_key/usage/", {
    GET: (req) => {
      if (!known(req)) return unknownProject();
      const range = readRange(req, ctx);
      if (!isRange(range)) return range;
      return json({ units: { ...UNITS }, data: ctx.usage.figures(range.from, range.to, dayToIso) });
    },
  });

  router.add("/projects/:pub_key/usage/:metric/", {
    GET: (req) => {
      if (!known(req)) return unknownProject();
      const metric = req.params["metric"] as Metric;
      if (!(METRICS as readonly string[]).includes(metric)) return projectError(404, "not_found", "Not found.");
      const range = readRange(req, ctx);
      if (!isRange(range)) return range;
      const data = [];
      for (let day = range.from; day <= range.to; day++) data.push({ date: dayToIso(day), value: ctx.usage.value(day, metric) });
      return json({ metric, unit: UNITS[metric], data });
    },
  });
}
