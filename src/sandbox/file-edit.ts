import type { SandboxContext } from "./context.ts";
import { CUSTOM_KIND, kindOfMime } from "./catalog.ts";
import { REMOVED, STORED, UNSTORED } from "./file-table.ts";
import { METADATA_KEY_RE, METADATA_VALUE_MAX } from "./metadata-routes.ts";
import { parseIsoMicros } from "./time.ts";

// Reading control-API bodies that describe files: uploads to simulate, and
// changes made "behind the API's back" (no webhooks), for fault tests.

export function readMetadata(value: unknown): Record<string, string> | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "metadata must be an object";
  for (const [k, v] of Object.entries(value)) {
    if (!METADATA_KEY_RE.test(k)) return `metadata key "${k}" is invalid`;
    if (typeof v !== "string" || v.length < 1 || v.length > METADATA_VALUE_MAX) return `metadata value of "${k}" must be a string of 1-${METADATA_VALUE_MAX} characters`;
  }
  return value as Record<string, string>;
}

export function readObject(value: unknown, name: string): Record<string, unknown> | string {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : `${name} must be an object`;
}

export function readTime(value: unknown, name: string): number | string {
  const us = typeof value === "string" ? parseIsoMicros(value) : null;
  return us === null ? `${name} must be an ISO 8601 date-time` : us;
}

/**
 * Applies a PATCH /__sandbox/files/{uuid} body. Fires no webhooks: this is
 * the state changing without Uploadcare telling anyone.
 */
export function editFile(ctx: SandboxContext, i: number, body: Record<string, unknown>): string | null {
  const { table } = ctx;
  const o = () => table.overridesFor(i);
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case "size":
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0) return "size must be a non-negative integer";
        table.size[i] = value;
        break;
      case "mime_type": {
        if (typeof value !== "string" || !value.includes("/")) return "mime_type must be a MIME type";
        const kind = kindOfMime(value);
        table.kind[i] = kind;
        if (kind === CUSTOM_KIND) o().mime = value;
        delete o().contentInfo;
        break;
      }
      case "original_filename":
        if (typeof value !== "string" || value === "") return "original_filename must be a non-empty string";
        o().filename = value;
        break;
      case "metadata": {
        const m = readMetadata(value);
        if (typeof m === "string") return m;
        o().metadata = { ...m };
        break;
      }
      case "appdata": {
        const a = readObject(value, "appdata");
        if (typeof a === "string") return a;
        o().appdata = { ...a };
        break;
      }
      case "is_ready":
        if (typeof value !== "boolean") return "is_ready must be a boolean";
        o().isReady = value;
        break;
      case "status": {
        const now = ctx.clock.stampUs();
        if (value === "stored") table.markStored(i, now);
        else if (value === "removed") table.markRemoved(i, now);
        else if (value === "unstored") table.setStatus(i, UNSTORED);
        else return 'status must be "stored", "unstored" or "removed"';
        break;
      }
      case "datetime_stored":
      case "datetime_removed": {
        if (value === null) continue;
        const us = readTime(value, key);
        if (typeof us === "string") return us;
        const wanted = key === "datetime_stored" ? STORED : REMOVED;
        if (table.status[i] !== wanted) return `${key} can only be set on a ${wanted === STORED ? "stored" : "removed"} file`;
        (key === "datetime_stored" ? table.stored : table.removed)[i] = us;
        break;
      }
      case "datetime_uploaded": {
        const us = readTime(value, key);
        if (typeof us === "string") return us;
        table.moveUploaded(i, us);
        break;
      }
      default:
        return `unknown field "${key}"`;
    }
  }
  table.touch();
  return null;
}
