import { OPERATION_IDS } from "./operation-ids.ts";

/**
 * What the generated OpenAPI document lacks and generators need, added in one
 * place rather than in every route file: an operationId per operation, an
 * explicit `security: []` on the routes that need no token (so a generator
 * does not attach the bearer token the document asks for by default), a
 * server, and the licence.
 */

type Json = Record<string, unknown>;
export type OpenApiDocument = { info?: Json; paths?: Record<string, Record<string, Json>>; components?: { schemas?: Record<string, Json> } } & Json;

export const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** The licence in package.json. */
const LICENSE = { name: "MIT", identifier: "MIT" };

/** Operations with neither an operationId of their own nor one in OPERATION_IDS, as `METHOD /path`. */
export function unnamedOperations(doc: OpenApiDocument): string[] {
  const missing: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op && typeof op["operationId"] !== "string") missing.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return missing;
}

export function completeDocument(doc: OpenApiDocument): OpenApiDocument {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const id = OPERATION_IDS[`${method.toUpperCase()} ${path}`];
      if (typeof op["operationId"] !== "string" && id) op["operationId"] = id;
      // Protected routes say `bearerAuth` (protectedRoute); every other one is public.
      if (!Array.isArray(op["security"])) op["security"] = [];
    }
  }
  return {
    ...doc,
    info: { ...doc.info, license: LICENSE },
    // Relative: the document is served by the deployment it describes, under whatever name it is reached.
    servers: [{ url: "/", description: "The ucledger server that served this document" }],
    security: [{ bearerAuth: [] }],
  };
}
