import { Router, detail, noContent, notFound, objectBody, ok, parseBool, type ApiResult } from "./http.ts";
import type { SandboxContext } from "./context.ts";
import { isoMicros } from "./time.ts";

// Webhook subscriptions: the registry and the /webhooks/ endpoints.

export const WEBHOOK_EVENTS = ["file.uploaded", "file.infected", "file.stored", "file.deleted", "file.info_updated"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface Webhook {
  id: number;
  createdUs: number;
  updatedUs: number;
  event: WebhookEvent;
  targetUrl: string;
  isActive: boolean;
  signingSecret: string | null;
  version: string;
}

const TARGET_URL_MAX = 255;
const SIGNING_SECRET_MAX = 32;
/** pyuploadcare's tests quote this answer to a duplicate (project, event, target_url). */
const NOT_UNIQUE = { non_field_errors: ["This project is already subscribed on this event"] };

export class WebhookRegistry {
  private readonly hooks = new Map<number, Webhook>();

  constructor(private nextId: number) {}

  list(): Webhook[] {
    return [...this.hooks.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): Webhook | undefined {
    return this.hooks.get(id);
  }

  active(event: WebhookEvent): Webhook[] {
    return this.list().filter((h) => h.isActive && h.event === event);
  }

  isTaken(event: string, targetUrl: string, exceptId?: number): boolean {
    return this.list().some((h) => h.id !== exceptId && h.event === event && h.targetUrl === targetUrl);
  }

  add(hook: Omit<Webhook, "id">): Webhook {
    const created = { id: this.nextId++, ...hook };
    this.hooks.set(created.id, created);
    return created;
  }

  remove(id: number): boolean {
    return this.hooks.delete(id);
  }

  /** The subscriptions and the next id, for a persisted sandbox. */
  snapshot(): { nextId: number; hooks: Webhook[] } {
    return { nextId: this.nextId, hooks: this.list().map((h) => ({ ...h })) };
  }

  restore(state: { nextId: number; hooks: Webhook[] }): void {
    this.hooks.clear();
    for (const hook of state.hooks) this.hooks.set(hook.id, { ...hook });
    this.nextId = state.nextId;
  }

  removeByTarget(targetUrl: string): number {
    let removed = 0;
    for (const hook of this.list()) if (hook.targetUrl === targetUrl && this.hooks.delete(hook.id)) removed++;
    return removed;
  }
}

export function webhookJson(hook: Webhook, projectId: number): Record<string, unknown> {
  return {
    id: hook.id,
    created: isoMicros(hook.createdUs),
    updated: isoMicros(hook.updatedUs),
    event: hook.event,
    target_url: hook.targetUrl,
    project: projectId,
    is_active: hook.isActive,
    signing_secret: hook.signingSecret,
    version: hook.version,
  };
}

type Fields = { targetUrl?: string; event?: WebhookEvent; isActive?: boolean; signingSecret?: string | null; version?: string };

/** Validates the writable fields; DRF-style field errors, as the real API answers. */
function readFields(body: Record<string, unknown>, creating: boolean): Fields | ApiResult {
  const errors: Record<string, string[]> = {};
  const fields: Fields = {};
  if (body["target_url"] !== undefined) {
    const url = String(body["target_url"]);
    if (url === "") return detail(400, "`target_url` is missing.");
    if (url.length > TARGET_URL_MAX) errors["target_url"] = [`Ensure this field has no more than ${TARGET_URL_MAX} characters.`];
    else if (!isHttpUrl(url)) errors["target_url"] = ["Enter a valid URL."];
    else fields.targetUrl = url;
  } else if (creating) {
    return detail(400, "`target_url` is missing.");
  }
  if (body["event"] !== undefined) {
    const event = String(body["event"]);
    if ((WEBHOOK_EVENTS as readonly string[]).includes(event)) fields.event = event as WebhookEvent;
    else errors["event"] = [`"${event}" is not a valid choice.`];
  } else if (creating) {
    errors["event"] = ["This field is required."];
  }
  if (body["is_active"] !== undefined) {
    const active = parseBool(body["is_active"]);
    if (active === null || active === undefined) errors["is_active"] = ["Must be a valid boolean."];
    else fields.isActive = active;
  }
  if (body["signing_secret"] !== undefined) {
    const secret = body["signing_secret"] === null ? null : String(body["signing_secret"]);
    if (secret !== null && secret.length > SIGNING_SECRET_MAX) errors["signing_secret"] = [`Ensure this field has no more than ${SIGNING_SECRET_MAX} characters.`];
    else fields.signingSecret = secret === "" ? null : secret;
  }
  if (body["version"] !== undefined) {
    const version = String(body["version"]);
    if (version === "0.7") fields.version = version;
    else errors["version"] = [`"${version}" is not a valid choice.`];
  }
  if (Object.keys(errors).length > 0) return { status: 400, body: errors };
  return fields;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function isResult(x: Fields | ApiResult): x is ApiResult {
  return typeof (x as ApiResult).status === "number";
}

export function registerWebhookRoutes(router: Router, ctx: SandboxContext): void {
  const json = (hook: Webhook) => webhookJson(hook, ctx.keys.projectId);
  const body = (req: Parameters<typeof objectBody>[0]) => objectBody(req);

  router.add("/webhooks/unsubscribe/", {
    DELETE: (req) => {
      const b = body(req);
      if (!b) return detail(400, "Expected JSON object.");
      const target = b["target_url"];
      if (target === undefined || target === "") return detail(400, "`target_url` is missing.");
      // [inf] Nothing to unsubscribe is answered 404.
      return ctx.webhooks.removeByTarget(String(target)) > 0 ? noContent() : notFound();
    },
  });

  router.add("/webhooks/", {
    GET: () => ok(ctx.webhooks.list().map(json)),
    POST: (req) => {
      const b = body(req);
      if (!b) return detail(400, "Expected JSON object.");
      const fields = readFields(b, true);
      if (isResult(fields)) return fields;
      const targetUrl = fields.targetUrl as string;
      const event = fields.event as WebhookEvent;
      if (ctx.webhooks.isTaken(event, targetUrl)) return { status: 400, body: NOT_UNIQUE };
      const now = ctx.clock.stampUs();
      const hook = ctx.webhooks.add({
        createdUs: now,
        updatedUs: now,
        event,
        targetUrl,
        isActive: fields.isActive ?? true,
        signingSecret: fields.signingSecret ?? null,
        version: fields.version ?? "0.7",
      });
      return ok(json(hook), 201);
    },
  });

  router.add("/webhooks/:id/", {
    GET: (req) => {
      const hook = ctx.webhooks.get(Number(req.params["id"]));
      return hook && /^\d+$/.test(req.params["id"] ?? "") ? ok(json(hook)) : notFound();
    },
    PUT: (req) => {
      const hook = /^\d+$/.test(req.params["id"] ?? "") ? ctx.webhooks.get(Number(req.params["id"])) : undefined;
      if (!hook) return notFound();
      const b = body(req);
      if (!b) return detail(400, "Expected JSON object.");
      const fields = readFields(b, false);
      if (isResult(fields)) return fields;
      const event = fields.event ?? hook.event;
      const targetUrl = fields.targetUrl ?? hook.targetUrl;
      if (ctx.webhooks.isTaken(event, targetUrl, hook.id)) return { status: 400, body: NOT_UNIQUE };
      hook.event = event;
      hook.targetUrl = targetUrl;
      if (fields.isActive !== undefined) hook.isActive = fields.isActive;
      if (fields.signingSecret !== undefined) hook.signingSecret = fields.signingSecret;
      if (fields.version !== undefined) hook.version = fields.version;
      hook.updatedUs = ctx.clock.stampUs();
      return ok(json(hook));
    },
    DELETE: (req) => {
      const id = req.params["id"] ?? "";
      return /^\d+$/.test(id) && ctx.webhooks.remove(Number(id)) ? noContent() : notFound();
    },
  });
}
