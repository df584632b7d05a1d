import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { App, ApiDeps } from "./app.ts";

const Health = z
  .object({
    status: z.enum(["ok"]),
    database: z.enum(["pglite", "postgres"]),
    version: z.string(),
  })
  .openapi("Health");

const route = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness and database check; needs no token",
  responses: {
    200: { description: "The service and its database answer", content: { "application/json": { schema: Health } } },
  },
});

export function registerHealth(app: App, deps: ApiDeps) {
  app.openapi(route, async (c) => {
    // A trivial query proves the database answers, not just that the process lives.
    await deps.database.db.execute(sql`select 1`);
    return c.json({ status: "ok" as const, database: deps.database.kind, version: deps.version }, 200);
  });
}
