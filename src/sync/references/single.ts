import { recordSnapshot } from "../../db/queries/reference-snapshots.ts";
import { deleteReference, ensureSource, fileInLedger, insertReference, lockProjectReferences, refreshFileStates, sourceSize } from "../../db/queries/references.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { parseReferenceValue } from "./parse-value.ts";
import { sourceSpec, type ReferenceDeps } from "./replace.ts";
import { ConflictError } from "../../errors.ts";

/**
 * Single references, for applications that report as they go (`POST`/`DELETE
 * /v1/references/{source}`). Each is a recorded snapshot of kind add/remove and
 * counts as a report of the source.
 */

export interface SingleResult {
  projectKey: string;
  source: string;
  ref: string;
  /** The file the value named; null when it named none. */
  uuid: string | null;
  /** Why the value names no file; then nothing was stored. */
  reason: string | null;
  /** References added or removed (0 when already there, or not there). */
  changed: number;
  size: number;
  snapshotId: string;
}

async function assertPush(deps: ReferenceDeps, projectKey: string, source: string) {
  const spec = sourceSpec(deps.settings, projectKey, source);
  if (spec.kind === "pull") throw new ConflictError(`source ${source} is a pull source: its set comes from its configured query, not from requests`);
  return spec;
}

export async function addReference(
  deps: ReferenceDeps,
  input: { projectKey: string; source: string; ref: string; value: string; actor: string },
): Promise<SingleResult> {
  const { projectKey, source, ref, value } = input;
  const spec = await assertPush(deps, projectKey, source);
  const parsed = parseReferenceValue(value, deps.settings.cdnDomains);
  return deps.db.transaction(async (tx) => {
    await lockProjectReferences(tx, projectKey);
    const now = dateToTimestamp(deps.now());
    const existing = await ensureSource(tx, { projectKey, source, ...spec }, now);
    if (existing.kind !== "push") throw new ConflictError(`source ${source} is a pull source: its set comes from its configured query, not from requests`);
    const previousSize = await sourceSize(tx, projectKey, source);
    let changed = 0;
    let unknownFiles = 0;
    if (parsed.uuid !== null) {
      changed = (await insertReference(tx, { projectKey, source, ref, uuid: parsed.uuid, value, now })) ? 1 : 0;
      if (changed) await refreshFileStates(tx, { projectKey, uuids: [parsed.uuid], now });
      unknownFiles = (await fileInLedger(tx, projectKey, parsed.uuid)) ? 0 : 1;
    }
    const size = previousSize + changed;
    const snapshotId = await recordSnapshot(tx, {
      projectKey, source, kind: "add", status: "applied", takenAt: now, size, previousSize, added: changed, removed: 0,
      unresolved: parsed.uuid === null ? 1 : 0, unknownFiles, forced: false, actor: input.actor, message: null,
    });
    return { projectKey, source, ref, uuid: parsed.uuid, reason: parsed.uuid === null ? parsed.reason : null, changed, size, snapshotId };
  });
}

/** Removes the ref's pair with the file its value names, or every pair of the ref when no value is given. */
export async function removeReference(
  deps: ReferenceDeps,
  input: { projectKey: string; source: string; ref: string; value: string | undefined; actor: string },
): Promise<SingleResult> {
  const { projectKey, source, ref } = input;
  const spec = await assertPush(deps, projectKey, source);
  const parsed = input.value === undefined ? null : parseReferenceValue(input.value, deps.settings.cdnDomains);
  return deps.db.transaction(async (tx) => {
    await lockProjectReferences(tx, projectKey);
    const now = dateToTimestamp(deps.now());
    const existing = await ensureSource(tx, { projectKey, source, ...spec }, now);
    if (existing.kind !== "push") throw new ConflictError(`source ${source} is a pull source: its set comes from its configured query, not from requests`);
    const previousSize = await sourceSize(tx, projectKey, source);
    let uuids: string[] = [];
    if (parsed === null || parsed.uuid !== null) {
      uuids = await deleteReference(tx, { projectKey, source, ref, uuid: parsed?.uuid ?? null });
      await refreshFileStates(tx, { projectKey, uuids, now });
    }
    const size = await sourceSize(tx, projectKey, source);
    const changed = previousSize - size;
    const snapshotId = await recordSnapshot(tx, {
      projectKey, source, kind: "remove", status: "applied", takenAt: now, size, previousSize, added: 0, removed: changed,
      unresolved: parsed !== null && parsed.uuid === null ? 1 : 0, unknownFiles: 0, forced: false, actor: input.actor, message: null,
    });
    return {
      projectKey, source, ref,
      uuid: parsed?.uuid ?? (uuids.length === 1 ? uuids[0]! : null),
      reason: parsed !== null && parsed.uuid === null ? parsed.reason : null,
      changed, size, snapshotId,
    };
  });
}
