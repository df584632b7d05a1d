import { createHash } from "node:crypto";
import { UploadcareFile, describeZodError } from "../uploadcare/file-object.ts";
import { toFileRecord, type FileRecord } from "./file-record.ts";
import { makeStorable } from "./storable.ts";

/** Where an upstream file object came from. */
export type SnapshotSource = "list" | "file_info" | "webhook";

/**
 * An upstream record the ledger could not store as sent, kept with its exact
 * text: `stored_escaped` when the file row holds a substitute (see storable.ts),
 * `set_aside` when no row could be written from it (it fails the file schema).
 */
export interface QuarantineEntry {
  rawSha256: string;
  fileUuid: string | null;
  source: SnapshotSource;
  disposition: "stored_escaped" | "set_aside";
  reason: string;
  raw: string;
}

export interface Admitted {
  record: FileRecord | null;
  quarantine: QuarantineEntry | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns one upstream file object into what the ledger stores. One bad file never
 * blocks the rest: a value PostgreSQL refuses is substituted (and the exact text
 * kept), an object that fails the schema is set aside with the reason.
 */
export function admitFile(raw: unknown, source: SnapshotSource, observedAt: string): Admitted {
  // JSON.stringify escapes NUL and lone surrogates, so this text is storable and exact.
  const text = () => JSON.stringify(raw) ?? "null";
  const storable = makeStorable(raw);
  const parsed = UploadcareFile.safeParse(storable.value);
  if (!parsed.success) {
    return { record: null, quarantine: entry(text(), uuidOf(raw), source, "set_aside", `does not match the file schema: ${describeZodError(parsed.error)}`) };
  }
  // The object itself, not zod's copy: zod rebuilds records by assignment, which
  // turns a metadata key named `__proto__` into a prototype and loses it.
  const record = toFileRecord(storable.value as UploadcareFile, observedAt);
  if (storable.problems.length === 0) return { record, quarantine: null };
  const reason = `PostgreSQL cannot store it as sent; stored with substitutes: ${storable.problems.join("; ")}`;
  return { record, quarantine: entry(text(), record.uuid, source, "stored_escaped", reason) };
}

/** Admits each object of a page; the records and the entries to keep beside them. */
export function admitFiles(raws: unknown[], source: SnapshotSource, observedAt: string): { records: FileRecord[]; quarantine: QuarantineEntry[] } {
  const records: FileRecord[] = [];
  const quarantine: QuarantineEntry[] = [];
  for (const raw of raws) {
    const admitted = admitFile(raw, source, observedAt);
    if (admitted.record) records.push(admitted.record);
    if (admitted.quarantine) quarantine.push(admitted.quarantine);
  }
  return { records, quarantine };
}

export function quarantineEntry(raw: string, fileUuid: string | null, source: SnapshotSource, reason: string): QuarantineEntry {
  return entry(raw, fileUuid, source, "set_aside", reason);
}

function entry(raw: string, fileUuid: string | null, source: SnapshotSource, disposition: QuarantineEntry["disposition"], reason: string): QuarantineEntry {
  return { rawSha256: createHash("sha256").update(raw).digest("hex"), fileUuid, source, disposition, reason, raw };
}

function uuidOf(raw: unknown): string | null {
  const uuid = (raw as { uuid?: unknown } | null)?.uuid;
  return typeof uuid === "string" && UUID.test(uuid) ? uuid.toLowerCase() : null;
}
