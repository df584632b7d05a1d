import { sameJson } from "../../db/audit/canonical-json.ts";
import type { EventKind } from "../../db/schema/index.ts";
import type { FileRecord } from "./file-record.ts";

/** One observed change, before it gets its place in the chain. */
export interface FileChange {
  kind: EventKind;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  occurredAt: string | null;
}

/** Fields that have an event kind of their own, so a generic `changed` event leaves them out. */
const OWN_KIND_FIELDS = new Set(["datetime_stored", "datetime_removed", "original_file_url", "metadata", "appdata"]);

/** What an `uploaded` event records of a file at first sight. */
function firstSight(record: FileRecord): Record<string, unknown> {
  return {
    datetime_uploaded: record.datetimeUploaded,
    size: record.size,
    mime_type: record.mimeType,
    original_filename: record.originalFilename,
    datetime_stored: record.datetimeStored,
    datetime_removed: record.datetimeRemoved,
    metadata: record.metadata,
  };
}

/**
 * The changes between the ledger's copy of a file and a newer snapshot. A file
 * seen for the first time yields one `uploaded` event that records its state at
 * first sight (stored, removed, metadata): the ledger never saw it otherwise, so
 * it records no store or removal it did not observe. From then on every store,
 * removal, metadata or appdata change and any other field change is an event.
 */
export function diffFile(current: FileRecord | null, next: FileRecord): FileChange[] {
  if (current === null) return [{ kind: "uploaded", before: null, after: firstSight(next), occurredAt: next.datetimeUploaded }];

  const changes: FileChange[] = [];
  if (next.datetimeStored !== null && next.datetimeStored !== current.datetimeStored) {
    changes.push({
      kind: "stored",
      before: { datetime_stored: current.datetimeStored },
      after: { datetime_stored: next.datetimeStored },
      occurredAt: next.datetimeStored,
    });
  }
  if (next.datetimeRemoved !== null && current.datetimeRemoved === null) {
    changes.push({
      kind: "removed",
      before: { datetime_stored: current.datetimeStored, original_file_url: current.originalFileUrl },
      after: { datetime_removed: next.datetimeRemoved, datetime_stored: next.datetimeStored, original_file_url: next.originalFileUrl },
      occurredAt: next.datetimeRemoved,
    });
  }
  if (!sameJson(current.metadata, next.metadata)) {
    changes.push({ kind: "metadata_changed", before: { metadata: current.metadata }, after: { metadata: next.metadata }, occurredAt: null });
  }
  if (!sameJson(current.appdata ?? {}, next.appdata ?? {})) {
    changes.push({ kind: "appdata_changed", before: { appdata: current.appdata }, after: { appdata: next.appdata }, occurredAt: null });
  }

  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(current.data), ...Object.keys(next.data)]);
  for (const key of keys) {
    if (OWN_KIND_FIELDS.has(key)) continue;
    if (!sameJson(current.data[key] ?? null, next.data[key] ?? null)) {
      // defineProperty: a field named `__proto__` would otherwise set the prototype and vanish.
      Object.defineProperty(before, key, { value: current.data[key] ?? null, enumerable: true, writable: true, configurable: true });
      Object.defineProperty(after, key, { value: next.data[key] ?? null, enumerable: true, writable: true, configurable: true });
    }
  }
  // datetime_stored cleared without a removal is no kind of its own: keep it visible.
  if (next.datetimeStored === null && current.datetimeStored !== null && next.datetimeRemoved === null) {
    before.datetime_stored = current.datetimeStored;
    after.datetime_stored = null;
  }
  if (Object.keys(after).length > 0) changes.push({ kind: "changed", before, after, occurredAt: null });
  return changes;
}
