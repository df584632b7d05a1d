import { UpstreamError } from "../errors.ts";
import type { UploadcareClient } from "../sync/uploadcare/client.ts";
import type { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import { VERSION_OF_KEY, VERSION_PLAN_KEY } from "./action-specs.ts";

/** Uploadcare's clock and ours may differ: copies are looked for from this long before our own time of the request. */
const CLOCK_MARGIN_MS = 15 * 60_000;

/**
 * The copies a version plan made, found by the marker each carries
 * (`ucledger_plan` = the plan, `ucledger_version_of` = the original):
 * original → copy. Lists the files uploaded since `since` (a copy's upload
 * time is when its request arrived), so it reads only the recent end of the
 * project.
 */
export async function findPlanCopies(client: UploadcareClient, planId: string, since: Date): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor: { from?: string; offset?: number } = { from: new Date(since.getTime() - CLOCK_MARGIN_MS).toISOString() };
  for (;;) {
    const page = await client.listFiles(cursor);
    for (const raw of page.items) {
      const file = raw as { uuid?: unknown; metadata?: Record<string, unknown> | null; datetime_removed?: unknown };
      const metadata = file.metadata ?? {};
      if (metadata[VERSION_PLAN_KEY] !== planId || typeof metadata[VERSION_OF_KEY] !== "string" || typeof file.uuid !== "string") continue;
      const original = (metadata[VERSION_OF_KEY] as string).toLowerCase();
      // Two copies of one original would be a bug; the first one stays the version, and nothing makes a third.
      if (!out.has(original)) out.set(original, file.uuid.toLowerCase());
    }
    if (!page.next) return out;
    cursor = page.next;
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a new copy back until Uploadcare confirms it: stored, ready, not
 * removed, with its real size (the immediate answer of a copy says 0).
 */
export async function readCopy(client: UploadcareClient, uuid: string, attempts = 10, waitMs = 500): Promise<UploadcareFile> {
  let last = "";
  for (let attempt = 1; ; attempt++) {
    const file = await client.fileInfo(uuid);
    if (file.datetime_removed) throw new UpstreamError(`the copy ${uuid} was removed`);
    if (file.datetime_stored && file.is_ready !== false && file.size > 0) return file;
    last = !file.datetime_stored ? "not stored" : "not ready";
    if (attempt >= attempts) throw new UpstreamError(`the copy ${uuid} is still ${last} after ${attempts} reads`);
    await pause(waitMs);
  }
}
