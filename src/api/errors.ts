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
  return c.json({ error: { code, message, requestId } }, statusFor(code));
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
