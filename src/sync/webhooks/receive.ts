import { createHash, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client.ts";
import { apiRequests } from "../../db/partitioned/api-requests.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { AppError } from "../../errors.ts";
import { UploadcareFile, describeZodError } from "../uploadcare/file-object.ts";
import { isStorableString, makeStorable } from "../files/storable.ts";
import { verifyWebhookSignature } from "./signature.ts";

export const FILE_EVENTS = ["file.uploaded", "file.infected", "file.stored", "file.deleted", "file.info_updated"] as const;

/** The delivery body (reference section 8); `data` is the whole file object. */
export const WebhookDelivery = z.looseObject({
  initiator: z.looseObject({ type: z.string() }).optional(),
  hook: z.looseObject({ event: z.enum(FILE_EVENTS), project_pub_key: z.string().optional() }),
  data: UploadcareFile,
  file: z.string().nullable().optional(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export interface WebhookProject {
  publicKey: string;
  webhookSecret?: string | undefined;
}

export interface ReceiveResult {
  projectKey: string;
  event: string;
  duplicate: boolean;
  /** Why the delivery cannot be applied as sent (it is stored all the same, and set aside when applied). */
  problem: string | null;
}

/**
 * Takes one delivery: verifies `X-Uc-Signature` against the project's signing
 * secret and stores the body exactly as received (a redelivered body is stored
 * once). Nothing is stored unless the signature verifies; once it does, the
 * delivery is always stored, even when it cannot be applied as sent (a NUL in a
 * value, a body that fails the schema): answering an error would only make
 * Uploadcare retry the same bytes. The inbox lane sets such a delivery aside.
 */
export async function receiveWebhook(
  deps: { db: Db; projects: WebhookProject[]; now: () => Date },
  rawBody: string,
  signature: string | null | undefined,
): Promise<ReceiveResult> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    json = undefined;
  }
  const named = (json as { hook?: { project_pub_key?: unknown } } | undefined)?.hook?.project_pub_key;
  // The body is not trusted before the signature holds: it only narrows which secret to try.
  const candidates = deps.projects.filter((p) => p.webhookSecret && (typeof named !== "string" || p.publicKey === named));
  const project = candidates.find((p) => verifyWebhookSignature(p.webhookSecret!, rawBody, signature));
  if (!project) {
    throw new AppError(
      "UNAUTHORIZED",
      signature ? "X-Uc-Signature does not verify against any configured webhook signing secret" : "X-Uc-Signature header is missing",
    );
  }
  const inspected = inspectDelivery(json);
  const now = dateToTimestamp(deps.now());
  const digest = createHash("sha256").update(rawBody).digest("hex");
  // jsonb refuses NUL and lone surrogates even as escapes; the raw text keeps them as escapes.
  const body = inspected.storableJson ? rawBody : null;
  const raw = isStorableString(rawBody) ? rawBody : `base64:${Buffer.from(rawBody).toString("base64")}`;
  const inserted = await deps.db.execute(sql`
    insert into webhook_inbox (project_key, body_sha256, received_at, event, file_uuid, body, raw_body)
    values (${project.publicKey}, ${digest}, ${now}::timestamptz, ${inspected.event}, ${inspected.fileUuid},
            ${body}::jsonb, ${raw})
    on conflict do nothing`);
  const duplicate = ((inserted as unknown as { rowCount?: number; affectedRows?: number }).rowCount ??
    (inserted as unknown as { affectedRows?: number }).affectedRows ?? 0) === 0;
  return { projectKey: project.publicKey, event: inspected.event, duplicate, problem: inspected.problem };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What can be told of a verified body without trusting it to be well formed. */
export function inspectDelivery(json: unknown): {
  event: string;
  fileUuid: string | null;
  storableJson: boolean;
  /** Null when the body is a file webhook as described; else why not (it is stored all the same). */
  problem: string | null;
  /** The body matches the delivery schema (its values may still need substitutes). */
  valid: boolean;
  /** `initiator.type`, with substitutes: it names the actor in the audit trail. */
  initiator: string | null;
} {
  if (json === undefined) return { event: "unknown", fileUuid: null, storableJson: false, problem: "body: not valid JSON", valid: false, initiator: null };
  const storable = makeStorable(json);
  const parsed = WebhookDelivery.safeParse(storable.value);
  const hookEvent = (json as { hook?: { event?: unknown } } | null)?.hook?.event;
  const event = parsed.success ? parsed.data.hook.event : FILE_EVENTS.find((e) => e === hookEvent) ?? "unknown";
  const uuid = parsed.success ? parsed.data.data.uuid : (json as { data?: { uuid?: unknown } } | null)?.data?.uuid;
  const problem = parsed.success
    ? storable.problems.length > 0
      ? `PostgreSQL cannot store it as sent: ${storable.problems.join("; ")}`
      : null
    : describeZodError(parsed.error, "body.");
  return {
    event,
    fileUuid: typeof uuid === "string" && UUID.test(uuid) ? uuid.toLowerCase() : null,
    storableJson: storable.problems.length === 0,
    problem,
    valid: parsed.success,
    initiator: parsed.success ? (parsed.data.initiator?.type ?? null) : null,
  };
}

/**
 * A verified delivery goes into the API log, one row each, as Uploadcare's
 * other traffic does. Refused deliveries are not logged here: they name no
 * project we can trust and anyone can send them, so the receiver counts them
 * per source, minute and reason instead (refused_webhook_deliveries).
 */
export async function recordDelivery(
  db: Db,
  entry: { projectKey: string; requestedAt: Date; status: number; durationMs: number; bytes: number; error: string | null; event: string | null },
): Promise<void> {
  await db.insert(apiRequests).values({
    projectKey: entry.projectKey,
    id: randomUUID(),
    requestedAt: dateToTimestamp(entry.requestedAt),
    source: "uploadcare",
    api: "webhook",
    method: "POST",
    path: "/v1/webhooks/uploadcare",
    query: entry.event ? `event=${entry.event}` : null,
    status: entry.status,
    durationMs: entry.durationMs,
    attempt: 1,
    bytes: entry.bytes,
    error: entry.error,
  });
}
