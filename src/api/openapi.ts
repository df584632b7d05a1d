import { createRoute, z, type RouteConfig } from "@hono/zod-openapi";
import type { TokenRole } from "../db/schema/index.ts";
import { requireRole } from "./auth.ts";

/** The one error envelope, as the OpenAPI document shows it. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum([
        "BAD_REQUEST",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "CONFLICT",
        "PAYLOAD_TOO_LARGE",
        "UPSTREAM_ERROR",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_SERVER_ERROR",
      ]),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

const errorContent = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });

/** The errors every protected route can answer. */
export const protectedErrors = {
  400: errorContent("Invalid input; the message names the parameter"),
  401: errorContent("No token, or not a live one"),
  403: errorContent("The token's role may not do this"),
} as const;

export const notFoundError = { 404: errorContent("Not found") } as const;
export const conflictError = (description: string) => ({ 409: errorContent(description) }) as const;
export const tooLargeError = { 413: errorContent("The body is larger than the limit") } as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Rows as CSV (RFC 4180, header row, CRLF) or NDJSON, for the list routes. */
export const exportContent = {
  "text/csv": { schema: z.string().openapi({ description: "RFC 4180 CSV with a header row" }) },
  "application/x-ndjson": { schema: z.string().openapi({ description: "One JSON object per line, as in `data`" }) },
} as const;

/** The JSON page every list route answers with. */
export function listPage<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      data: z.array(item),
      nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page" }),
      total: z.number().int().nullable().openapi({
        description: "Matching rows; null with count=none, and when there are more than the exact bound and no real statistics to estimate from (see totalAtLeast)",
      }),
      totalExact: z.boolean().openapi({ description: "False when `total` is the planner's estimate (count=auto beyond 100,000 rows, from real statistics only)" }),
      totalAtLeast: z.number().int().optional().openapi({ description: "Set instead of `total` when the count stopped at its bound (100,000) and no honest estimate exists: there are at least this many" }),
    })
    .openapi(name);
}

export const ROLE_DESCRIPTION: Record<TokenRole, string> = {
  viewer: "Needs a token with role viewer, operator or admin.",
  operator: "Needs a token with role operator or admin.",
  admin: "Needs a token with role admin.",
};

/**
 * createRoute for a route behind a bearer token: the role check runs before
 * validation (so a weak token learns nothing about the input), and the
 * document says which role it takes.
 */
export function protectedRoute<R extends RouteConfig>(role: TokenRole, route: R) {
  return createRoute({
    ...route,
    security: [{ bearerAuth: [] }],
    description: [route.description, ROLE_DESCRIPTION[role]].filter(Boolean).join("\n\n"),
    "x-role": role,
    middleware: [requireRole(role)],
  } as R);
}
