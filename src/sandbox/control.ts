import { Hono, type Context } from "hono";
import type { SandboxContext } from "./context.ts";
import { REMOTE_STORAGE_NAME } from "./copy-routes.ts";
import { editFile, readMetadata, readObject, readTime } from "./file-edit.ts";
import { faultsToWire, parseFaults } from "./faults.ts";
import type { Initiator, UploadSpec } from "./lifecycle.ts";
import { dayToIso, isoMicros, parseIsoDay } from "./time.ts";
import { METRICS, type Metric } from "./usage.ts";
import { isUuid } from "./uuid.ts";

// The control API under /__sandbox/: no auth, no faults, not logged. It lets
// tests simulate uploads, move the clock, inject faults and read what the
// sandbox served. Every endpoint is documented in README.md.

const UPLOAD_COUNT_MAX = 100_000;

export function createControlApp(ctx: SandboxContext): Hono {
  // strict: false, so "/__sandbox" and "/__sandbox/" (and "/faults/") are the same.
  const app = new Hono({ strict: false });
  const bad = (c: Context, message: string) => c.json({ error: message }, 400);
  const body = async (c: Context): Promise<Record<string, unknown> | null> => {
    const text = await c.req.text();
    if (text.trim() === "") return {};
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const fileIndex = (c: Context) => {
    const uuid = c.req.param("uuid") ?? "";
    return isUuid(uuid) ? ctx.table.find(uuid) : -1;
  };

  // Expired temporaries should be visible to control reads too.
  app.use("*", async (_c, next) => {
    ctx.lifecycle.tick();
    await next();
  });

  app.get("/", (c) =>
    c.json({
      url: ctx.baseUrl,
      publicKey: ctx.keys.publicKey,
      secretKey: ctx.keys.secretKey,
      projectApiToken: ctx.keys.projectApiToken,
      webhookSecret: ctx.keys.webhookSecret,
      project_id: ctx.keys.projectId,
      seed: ctx.seed,
      now: isoMicros(ctx.clock.nowUs()),
      totals: { ...ctx.table.totals },
      files: ctx.table.count,
      remote_storage: REMOTE_STORAGE_NAME,
    }),
  );

  app.post("/files", async (c) => {
    const b = await body(c);
    if (!b) return bad(c, "expected a JSON object");
    const count = b["count"] ?? 1;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > UPLOAD_COUNT_MAX) {
      return bad(c, `count must be an integer between 1 and ${UPLOAD_COUNT_MAX}`);
    }
    // The generated project has autostore on, so uploads are stored unless told otherwise.
    const spec: UploadSpec = { stored: true };
    if (b["stored"] !== undefined) {
      if (typeof b["stored"] !== "boolean") return bad(c, "stored must be a boolean");
      spec.stored = b["stored"];
    }
    if (b["mime_type"] !== undefined) {
      if (typeof b["mime_type"] !== "string" || !b["mime_type"].includes("/")) return bad(c, "mime_type must be a MIME type");
      spec.mimeType = b["mime_type"];
    }
    if (b["size"] !== undefined) {
      if (typeof b["size"] !== "number" || !Number.isInteger(b["size"]) || b["size"] < 0) return bad(c, "size must be a non-negative integer");
      spec.size = b["size"];
    }
    if (b["original_filename"] !== undefined) {
      if (typeof b["original_filename"] !== "string" || b["original_filename"] === "") return bad(c, "original_filename must be a non-empty string");
      spec.filename = b["original_filename"];
    }
    if (b["metadata"] !== undefined) {
      const m = readMetadata(b["metadata"]);
      if (typeof m === "string") return bad(c, m);
      spec.metadata = m;
    }
    if (b["appdata"] !== undefined) {
      const a = readObject(b["appdata"], "appdata");
      if (typeof a === "string") return bad(c, a);
      spec.appdata = a;
    }
    if (b["datetime_uploaded"] !== undefined) {
      const us = readTime(b["datetime_uploaded"], "datetime_uploaded");
      if (typeof us === "string") return bad(c, us);
      spec.uploadedUs = us;
    }
    if (b["is_ready"] !== undefined) {
      if (typeof b["is_ready"] !== "boolean") return bad(c, "is_ready must be a boolean");
      spec.isReady = b["is_ready"];
    }
    const initiator: Initiator = { type: "api", detail: { request_id: ctx.newRequestId(), addon_name: null, source_file_uuid: null } };
    const created = ctx.lifecycle.upload(spec, count, initiator);
    return c.json({ uuids: created.map((i) => ctx.table.uuidOf(i)) }, 201);
  });

  app.get("/files/:uuid", (c) => {
    const i = fileIndex(c);
    return i < 0 ? c.json({ error: "no such file" }, 404) : c.json(ctx.files.toJson(i, true));
  });

  app.patch("/files/:uuid", async (c) => {
    const i = fileIndex(c);
    if (i < 0) return c.json({ error: "no such file" }, 404);
    const b = await body(c);
    if (!b) return bad(c, "expected a JSON object");
    const error = editFile(ctx, i, b);
    return error ? bad(c, error) : c.json(ctx.files.toJson(i, true));
  });

  app.put("/files/:uuid/appdata", async (c) => {
    const i = fileIndex(c);
    if (i < 0) return c.json({ error: "no such file" }, 404);
    const b = await body(c);
    if (!b || Object.keys(b).length === 0) return bad(c, "expected an object of add-on name → data (or null)");
    const now = isoMicros(ctx.clock.stampUs());
    const previous = ctx.files.appdata(i) as Record<string, { datetime_created?: string } | undefined>;
    const changes: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(b)) {
      if (value === null) changes[name] = null;
      else if (typeof value !== "object" || Array.isArray(value)) return bad(c, `appdata.${name} must be an object or null`);
      else if ("data" in value) changes[name] = value;
      else changes[name] = { data: value, version: "1.0", datetime_created: previous[name]?.datetime_created ?? now, datetime_updated: now };
    }
    const addon = Object.keys(b)[0] as string;
    ctx.lifecycle.setAppdata(i, changes, { type: "addon", detail: { request_id: ctx.newRequestId(), addon_name: addon, source_file_uuid: null } });
    return c.json(ctx.files.toJson(i, true));
  });

  app.get("/clock", (c) => c.json({ now: isoMicros(ctx.clock.nowUs()) }));
  app.post("/clock", async (c) => {
    const b = await body(c);
    const seconds = b?.["advance_seconds"];
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return bad(c, "advance_seconds must be a non-negative number");
    const before = ctx.table.totals.removed;
    ctx.clock.advance(seconds);
    ctx.lifecycle.tick();
    return c.json({ now: isoMicros(ctx.clock.nowUs()), expired: ctx.table.totals.removed - before });
  });

  app.get("/faults", (c) => c.json(faultsToWire(ctx.faults.config)));
  app.put("/faults", async (c) => {
    const b = await body(c);
    if (!b) return bad(c, "expected a JSON object");
    const changes = parseFaults(b);
    if (typeof changes === "string") return bad(c, changes);
    ctx.faults.update(changes);
    return c.json(faultsToWire(ctx.faults.config));
  });
  app.delete("/faults", (c) => {
    ctx.faults.reset();
    return c.json(faultsToWire(ctx.faults.config));
  });

  app.get("/requests", (c) => {
    const since = Number(c.req.query("since") ?? 0);
    const limit = Number(c.req.query("limit") ?? Infinity);
    if (!Number.isFinite(since) || since < 0 || Number.isNaN(limit) || limit < 0) return bad(c, "since and limit must be non-negative numbers");
    return c.json({ requests: ctx.log.list(since, limit), last_seq: ctx.log.lastSeq });
  });
  app.delete("/requests", (c) => {
    ctx.log.clear();
    return c.body(null, 204);
  });

  app.get("/webhook-deliveries", (c) => {
    const since = Number(c.req.query("since") ?? 0);
    if (!Number.isFinite(since) || since < 0) return bad(c, "since must be a non-negative number");
    return c.json({ deliveries: ctx.delivery.list(since) });
  });
  app.delete("/webhook-deliveries", (c) => {
    ctx.delivery.clear();
    return c.body(null, 204);
  });
  app.post("/settle", async (c) => {
    await ctx.delivery.settle();
    return c.json({ settled: true });
  });

  app.get("/usage", (c) => {
    const from = parseIsoDay(c.req.query("from") ?? "");
    const to = parseIsoDay(c.req.query("to") ?? "");
    if (from === null || to === null || from > to || to - from > 3660) return bad(c, "from and to must be YYYY-MM-DD, from <= to, at most 10 years apart");
    return c.json({ data: ctx.usage.figures(from, to, dayToIso) });
  });
  app.put("/usage", async (c) => {
    const b = await body(c);
    const day = typeof b?.["date"] === "string" ? parseIsoDay(b["date"]) : null;
    if (day === null) return bad(c, "date must be YYYY-MM-DD");
    const metric = b?.["metric"];
    if (typeof metric !== "string" || !(METRICS as readonly string[]).includes(metric)) return bad(c, `metric must be one of ${METRICS.join(", ")}`);
    const value = b?.["value"];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return bad(c, "value must be a non-negative number");
    ctx.usage.setOverride(day, metric as Metric, value);
    return c.json({ date: dayToIso(day), metric, value });
  });
  app.delete("/usage", (c) => {
    ctx.usage.clearOverrides();
    return c.body(null, 204);
  });

  app.notFound((c) => c.json({ error: "unknown control endpoint" }, 404));
  return app;
}
