import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Queryable } from "../db/client.ts";
import { insertAccessEntries } from "../db/queries/access-log.ts";
import type { NewApiAccess } from "../db/schema/index.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import type { Logger } from "../logger.ts";
import { isPublic, type Caller } from "./auth.ts";

/**
 * Records who read what: one `api_access_log` row per request to a protected
 * route. Rows are written behind the response, batched: while one insert is in
 * flight the next requests' rows gather and go in the next insert, so the log
 * costs a request no round trip (and a busy server one insert per batch).
 */
export interface AccessLog {
  record(entry: NewApiAccess): void;
  /** Resolves once every recorded row is written (tests, shutdown). */
  flush(): Promise<void>;
}

/** Rows held while the database does not answer; beyond this they are dropped, loudly. */
const MAX_BUFFERED = 50_000;

export function createAccessLog(deps: { db: Queryable; logger: Logger }): AccessLog {
  let buffer: NewApiAccess[] = [];
  let inFlight: Promise<void> | null = null;
  let dropped = 0;

  const drain = (): Promise<void> => {
    inFlight ??= (async () => {
      while (buffer.length > 0) {
        const batch = buffer;
        buffer = [];
        try {
          await insertAccessEntries(deps.db, batch);
        } catch (err) {
          // A drizzle error's message holds the query; the driver's cause does not.
          const cause = (err as { cause?: unknown }).cause;
          deps.logger.error({ rows: batch.length, cause: cause instanceof Error ? cause.message : String(cause ?? err) }, "access log write failed");
        }
      }
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  return {
    record(entry) {
      if (buffer.length >= MAX_BUFFERED) {
        if (dropped++ % 1000 === 0) deps.logger.error({ dropped }, "access log buffer full: rows dropped");
        return;
      }
      buffer.push(entry);
      void drain();
    },
    async flush() {
      while (inFlight || buffer.length > 0) await drain();
    },
  };
}

/** The matched route as the OpenAPI document spells it (`/v1/files/{uuid}`), or null. */
export function routePattern(c: Context): string | null {
  const route = matchedRoutes(c)
    .filter((r) => r.method !== "ALL")
    .at(-1);
  return route ? route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}") : null;
}

export function accessLogger(deps: { log: AccessLog; publicRoutes: ReadonlySet<string>; now: () => Date }): MiddlewareHandler {
  return async (c, next) => {
    if (isPublic(deps.publicRoutes, c.req.method, c.req.path)) return next();
    const requestedAt = deps.now();
    const started = performance.now();
    await next();
    deps.log.record({
      id: randomUUID(),
      requestedAt: dateToTimestamp(requestedAt),
      requestId: (c.get("requestId") as string | undefined) ?? "unknown",
      tokenName: (c.get("caller") as Caller | undefined)?.name ?? null,
      method: c.req.method,
      route: routePattern(c),
      status: c.res.status,
      durationMs: Math.round(performance.now() - started),
    });
  };
}
