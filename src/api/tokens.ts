import { z } from "@hono/zod-openapi";
import { ACCESS_ORDER, listAccess, type AccessEntry } from "../db/queries/access-log.ts";
import { createToken, listTokens, revokeToken, TOKEN_NAME_PATTERN, TOKEN_ORDER, type TokenInfo } from "../db/queries/tokens.ts";
import { TOKEN_ROLES } from "../db/schema/index.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Caller } from "./auth.ts";
import type { Column } from "./export.ts";
import { respondList } from "./listing.ts";
import { conflictError, exportContent, json, listPage, notFoundError, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";
import { bool, listParams, text, timestamp } from "./params.ts";

const TokenSchema = z
  .object({
    name: z.string(),
    role: z.enum(TOKEN_ROLES),
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi("Token");

const TOKEN_COLUMNS: Column<TokenInfo>[] = [
  { name: "name", value: (t) => t.name },
  { name: "role", value: (t) => t.role },
  { name: "created_at", value: (t) => t.createdAt },
  { name: "created_by", value: (t) => t.createdBy },
  { name: "revoked_at", value: (t) => t.revokedAt },
];

const tokenName = text(64).regex(TOKEN_NAME_PATTERN, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");

const listRoute = protectedRoute("admin", {
  method: "get",
  path: "/v1/tokens",
  tags: ["tokens"],
  summary: "API tokens (never their secrets)",
  request: { query: z.strictObject({ includeRevoked: bool("Also list revoked tokens").optional(), ...listParams }) },
  responses: {
    200: { description: "A page of tokens, or the export", content: { "application/json": { schema: listPage(TokenSchema, "TokenPage") }, ...exportContent } },
    ...protectedErrors,
  },
});

const CreateBody = z.strictObject({ name: tokenName, role: z.enum(TOKEN_ROLES, { message: "must be viewer, operator or admin" }) }).openapi("TokenCreate");

const createRoute = protectedRoute("admin", {
  method: "post",
  path: "/v1/tokens",
  tags: ["tokens"],
  summary: "Create a token; the answer holds the token, shown this once and never again",
  request: { body: { content: { "application/json": { schema: CreateBody } }, required: true } },
  responses: {
    201: json(TokenSchema.extend({ token: z.string().openapi({ description: "The bearer token. Store it now: only its hash is kept" }) }).openapi("CreatedToken"), "Created"),
    ...protectedErrors,
    ...conflictError("A live token has that name"),
    ...tooLargeError,
  },
});

const revokeRoute = protectedRoute("admin", {
  method: "delete",
  path: "/v1/tokens/{name}",
  tags: ["tokens"],
  summary: "Revoke the live token of that name (at once, for every instance)",
  request: { params: z.object({ name: tokenName.openapi({ param: { name: "name", in: "path" } }) }) },
  responses: { 200: json(TokenSchema, "Revoked"), ...protectedErrors, ...notFoundError },
});

const AccessSchema = z
  .object({
    id: z.string(),
    requestedAt: z.string(),
    requestId: z.string(),
    tokenName: z.string().nullable().openapi({ description: "Null when no valid token came (the request was answered 401)" }),
    method: z.string(),
    route: z.string().nullable().openapi({ description: "Route pattern, as in this document; null when none matched" }),
    status: z.number().int(),
    durationMs: z.number().int().openapi({ description: "Until the response started" }),
  })
  .openapi("AccessEntry");

const ACCESS_COLUMNS: Column<AccessEntry>[] = [
  { name: "id", value: (a) => a.id },
  { name: "requested_at", value: (a) => a.requestedAt },
  { name: "request_id", value: (a) => a.requestId },
  { name: "token_name", value: (a) => a.tokenName },
  { name: "method", value: (a) => a.method },
  { name: "route", value: (a) => a.route },
  { name: "status", value: (a) => a.status },
  { name: "duration_ms", value: (a) => a.durationMs },
];

const accessRoute = protectedRoute("admin", {
  method: "get",
  path: "/v1/access-log",
  tags: ["tokens"],
  summary: "Who called which protected route, when, and how it was answered; newest first",
  description: "Rows are written just behind the responses, so the last moment's requests may not show yet.",
  request: {
    query: z.strictObject({
      token: tokenName.optional().openapi({ description: "Only this token's requests" }),
      from: timestamp("At or after").optional(),
      to: timestamp("Before").optional(),
      ...listParams,
    }),
  },
  responses: {
    200: { description: "A page of requests, or the export", content: { "application/json": { schema: listPage(AccessSchema, "AccessPage") }, ...exportContent } },
    ...protectedErrors,
  },
});

export function registerTokens(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    return respondList(
      c,
      deps,
      {
        scope: `tokens:${q.includeRevoked ? "all" : "live"}`,
        order: TOKEN_ORDER,
        columns: TOKEN_COLUMNS,
        page: (after, limit) => listTokens(db, { includeRevoked: q.includeRevoked ?? false, after, limit }),
      },
      q,
    );
  });

  app.openapi(createRoute, async (c) => {
    const body = c.req.valid("json");
    const caller = c.get("caller") as Caller;
    const created = await createToken(db, { name: body.name, role: body.role, createdBy: `token:${caller.name}`, now: now() });
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  });

  app.openapi(revokeRoute, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await revokeToken(db, { name, now: now() }), 200);
  });

  app.openapi(accessRoute, async (c) => {
    const q = c.req.valid("query");
    const filter = { tokenName: q.token, from: q.from, to: q.to };
    return respondList(
      c,
      deps,
      {
        scope: "access-log",
        order: ACCESS_ORDER,
        columns: ACCESS_COLUMNS,
        page: (after, limit) => listAccess(db, { filter, after, limit }),
      },
      q,
    );
  });
}
