import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTPException } from "hono/http-exception";
import { AppError, type ErrorCode } from "../errors.ts";
import type { Logger } from "../logger.ts";

const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UPSTREAM_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

const CODE_BY_STATUS = new Map<number, ErrorCode>(
  Object.entries(STATUS_BY_CODE).map(([code, status]) => [status, code as ErrorCode]),
);

export function statusFor(code: ErrorCode): ContentfulStatusCode {
  return STATUS_BY_CODE[code];
}

/** The one error envelope every route answers with. */
export function errorResponse(c: Context, code: ErrorCode, message: string) {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  return c.json({ error: { code, message: code === "BAD_REQUEST" ? inUsersWords(message) : message, requestId } }, statusFor(code));
}

/** zod's own wordings, as a person would say them. */
const LIBRARY_WORDS: [RegExp, (...m: string[]) => string][] = [
  [/^Invalid input: expected (\w+), received undefined$/, () => "is required"],
  [/^Invalid input: expected (\w+), received (\w+)$/, (_, want, got) => `must be ${article(want!)}, not ${article(got!)}`],
  [/^Invalid option: expected one of (.+)$/, (_, list) => `must be one of ${list!.replaceAll("|", ", ")}`],
  [/^Unrecognized keys?: (.+)$/, (_, keys) => `is not a field here: ${keys}`],
  [/^Invalid input$/, () => "is not valid here"],
];

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/**
 * A validation message in users' words: `kind.0: …` names the parameter
 * (`kind: …`, `kind (value 2): …`), `conditions.0.in.0: …` reads
 * `conditions #1 → in: …`, and zod's defaults ("Invalid input: expected
 * string, received undefined") say what to do ("is required"). Every 400
 * passes here, from the request validation hook and from ValidationError alike.
 */
export function inUsersWords(message: string): string {
  const split = /^([A-Za-z_][\w-]*(?:\.[\w-]+)*): ([\s\S]*)$/.exec(message);
  if (!split) return message;
  const [, path, rest] = split as unknown as [string, string, string];
  const said = LIBRARY_WORDS.reduce<string | null>((found, [re, say]) => {
    if (found !== null) return found;
    const m = re.exec(rest);
    return m ? say(...m) : null;
  }, null);
  return `${readablePath(path)}: ${said ?? rest}`;
}

function readablePath(path: string): string {
  // `params.hours` already reads as a name; only positions need words.
  if (!/(^|\.)\d+(\.|$)/.test(path)) return path;
  const parts: string[] = [];
  const segments = path.split(".");
  segments.forEach((segment, i) => {
    if (!/^\d+$/.test(segment) || parts.length === 0) return void parts.push(segment);
    const n = Number(segment) + 1;
    const last = i === segments.length - 1;
    // A query parameter's only value needs no number; a later one, or an item inside a body, does.
    if (last && parts.length === 1) {
      if (n > 1) parts[0] = `${parts[0]} (value ${n})`;
      return;
    }
    parts[parts.length - 1] = `${parts[parts.length - 1]} #${n}`;
  });
  return parts.join(" → ");
}

/** Maps anything thrown below the transport to the envelope; logs only real faults. */
export function handleError(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) return errorResponse(c, err.code, err.message);
    if (err instanceof HTTPException) {
      // Hono's own refusals, worded to name what was wrong like every other 400.
      if (err.status === 415) return errorResponse(c, "BAD_REQUEST", "content-type: the body must be application/json");
      if (err.status === 400 && /json/i.test(err.message)) return errorResponse(c, "BAD_REQUEST", "body: not valid JSON");
      const code = CODE_BY_STATUS.get(err.status) ?? (err.status < 500 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR");
      return errorResponse(c, code, err.message || code.toLowerCase().replaceAll("_", " "));
    }
    // A drizzle error's message holds the whole query and its parameters: log the driver's cause.
    const cause = (err as { cause?: unknown }).cause;
    logger.error(
      { requestId: c.get("requestId"), err: { name: err.name, stack: err.stack }, cause: cause instanceof Error ? cause.message : cause },
      "unhandled error",
    );
    return errorResponse(c, "INTERNAL_SERVER_ERROR", "internal server error");
  };
}
