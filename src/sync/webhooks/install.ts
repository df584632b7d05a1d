import { appendEvents } from "../../db/audit/chain.ts";
import type { Db } from "../../db/client.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { ValidationError } from "../../errors.ts";
import type { UploadcareClient } from "../uploadcare/client.ts";
import { FILE_EVENTS } from "./receive.ts";

export interface InstallResult {
  created: string[];
  updated: string[];
}

/**
 * Subscribes the project to every file event at `targetUrl`, signed with the
 * project's webhook secret. Re-running it updates the existing subscriptions
 * (secret, active) instead of failing on Uploadcare's (event, url) uniqueness.
 * The action goes into the audit trail.
 */
export async function installWebhooks(
  deps: { db: Db; client: UploadcareClient; now: () => Date },
  options: { targetUrl: string; signingSecret: string | undefined; actor: string },
): Promise<InstallResult> {
  let url: URL;
  try {
    url = new URL(options.targetUrl);
  } catch {
    throw new ValidationError("--url: must be an absolute http(s) URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ValidationError("--url: must be an http(s) URL");
  if (!options.signingSecret) {
    throw new ValidationError(
      "UPLOADCARE_WEBHOOK_SECRET (or the project's webhookSecret in UCLEDGER_CONFIG) must be set: deliveries are verified with it",
    );
  }
  const existing = await deps.client.listWebhooks();
  const result: InstallResult = { created: [], updated: [] };
  for (const event of FILE_EVENTS) {
    const found = existing.find((hook) => hook.event === event && hook.targetUrl === url.toString());
    if (found) {
      await deps.client.updateWebhook({ id: found.id, signingSecret: options.signingSecret });
      result.updated.push(event);
    } else {
      await deps.client.createWebhook({ targetUrl: url.toString(), event, signingSecret: options.signingSecret });
      result.created.push(event);
    }
  }
  const projectKey = deps.client.transport.projectKey;
  await deps.db.transaction(async (tx) => {
    await appendEvents(tx, projectKey, [
      {
        fileUuid: null,
        kind: "action",
        before: null,
        after: { action: "webhooks_installed", target_url: url.toString(), created: result.created, updated: result.updated },
        occurredAt: null,
        observedAt: dateToTimestamp(deps.now()),
        source: "action",
        runId: null,
        planId: null,
        actor: options.actor,
      },
    ]);
  });
  return result;
}
