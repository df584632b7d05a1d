import { randomUUID } from "node:crypto";
import type { Db, Queryable } from "../../db/client.ts";
import {
  applyStaged,
  compareWholeSets,
  diffStaged,
  dropStaged,
  ensureSource,
  lockProjectReferences,
  refreshFileStates,
  stageReferences,
  type StagedReference,
} from "../../db/queries/references.ts";
import { recordSnapshot } from "../../db/queries/reference-snapshots.ts";
import type { ReferenceSourceKind } from "../../db/schema/index.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { REFERENCE_DEFAULTS, type ReferenceSettings } from "../../env.ts";
import { ConflictError } from "../../errors.ts";
import { parseReferenceValue } from "./parse-value.ts";

export interface ReferenceDeps {
  db: Db;
  now: () => Date;
  settings: ReferenceSettings;
  /** The scheduler's fence, for pull runs: refuses the write once the claim was taken over. */
  fence?: ((tx: Queryable) => Promise<void>) | undefined;
}

export interface IncomingReference {
  ref: string;
  value: string;
}

export interface UnresolvedSample {
  ref: string;
  value: string;
  reason: string;
}

export interface ReplaceResult {
  projectKey: string;
  source: string;
  snapshotId: string;
  takenAt: string;
  /** References in the new set (distinct (ref, file) pairs). */
  size: number;
  previousSize: number;
  added: number;
  removed: number;
  /** Values that named no file: counted, not kept. */
  unresolved: number;
  unresolvedSamples: UnresolvedSample[];
  /** References to a UUID the ledger has no file for (yet); kept. */
  unknownFiles: number;
  /** Files that became referenced, and unreferenced, with this snapshot. */
  nowReferenced: number;
  nowUnreferenced: number;
  forced: boolean;
}

/** Rows per staging insert. */
const STAGE_BATCH = 5_000;
/** Unresolved values shown in an answer; all are counted. */
export const UNRESOLVED_SAMPLES_MAX = 20;

/** The kind and interval a source is given: its configuration, else a push source with the default interval. */
export function sourceSpec(settings: ReferenceSettings, projectKey: string, source: string) {
  const declared = settings.sources.find((s) => s.projectKey === projectKey && s.name === source);
  return {
    kind: (declared?.pull ? "pull" : "push") as ReferenceSourceKind,
    staleAfterHours: declared?.staleAfterHours ?? REFERENCE_DEFAULTS.staleAfterHours,
  };
}

function checkKind(source: string, expected: ReferenceSourceKind, actual: ReferenceSourceKind): void {
  if (expected === actual) return;
  throw new ConflictError(
    actual === "pull"
      ? `source ${source} is a pull source: its set comes from its configured query, not from requests`
      : `source ${source} is a push source: it has no query to pull`,
  );
}

const short = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

function share(part: number, whole: number): string {
  return `${Math.round((part / whole) * 1000) / 10}%`;
}

/**
 * Replaces a source's whole set with the incoming one, atomically. The set is
 * staged as it arrives, then compared and applied in one transaction. A set
 * that drops more than `maxDropShare` of the current references is refused
 * (and recorded as refused) unless forced: the current set stays.
 */
export async function replaceReferences(
  deps: ReferenceDeps,
  input: { projectKey: string; source: string; kind: ReferenceSourceKind; references: AsyncIterable<IncomingReference>; force: boolean; actor: string },
): Promise<ReplaceResult> {
  const { projectKey, source } = input;
  const spec = sourceSpec(deps.settings, projectKey, source);
  checkKind(source, input.kind, spec.kind);
  const uploadId = randomUUID();
  let unresolved = 0;
  const samples: UnresolvedSample[] = [];
  try {
    let batch: StagedReference[] = [];
    const stagedAt = dateToTimestamp(deps.now());
    for await (const r of input.references) {
      const parsed = parseReferenceValue(r.value, deps.settings.cdnDomains);
      if (parsed.uuid === null) {
        unresolved += 1;
        if (samples.length < UNRESOLVED_SAMPLES_MAX) samples.push({ ref: short(r.ref), value: short(r.value), reason: parsed.reason });
        continue;
      }
      batch.push({ ref: r.ref, uuid: parsed.uuid, value: r.value });
      if (batch.length >= STAGE_BATCH) {
        await stageReferences(deps.db, { projectKey, uploadId, rows: batch, now: stagedAt });
        batch = [];
      }
    }
    await stageReferences(deps.db, { projectKey, uploadId, rows: batch, now: stagedAt });

    const outcome = await deps.db.transaction(async (tx) => {
      await deps.fence?.(tx);
      await lockProjectReferences(tx, projectKey);
      const takenAt = dateToTimestamp(deps.now());
      const existing = await ensureSource(tx, { projectKey, source, ...spec }, takenAt);
      checkKind(source, input.kind, existing.kind);
      await compareWholeSets(tx, true);
      const diff = await diffStaged(tx, { projectKey, source, uploadId });
      const tooMany = diff.previousSize > 0 && diff.removed / diff.previousSize > deps.settings.maxDropShare;
      const base = { projectKey, source, kind: "replace" as const, takenAt, previousSize: diff.previousSize, added: diff.added, removed: diff.removed, unresolved, unknownFiles: diff.unknownFiles, actor: input.actor };
      if (tooMany && !input.force) {
        const message =
          `refused: the new set of ${source} drops ${diff.removed} of its ${diff.previousSize} references (${share(diff.removed, diff.previousSize)}), ` +
          `more than the ${share(deps.settings.maxDropShare, 1)} allowed; nothing changed. Send it again with force=true if the drop is intended`;
        await recordSnapshot(tx, { ...base, status: "refused", size: diff.size, forced: false, message });
        return { refused: message, result: null } as const;
      }
      const changed = await applyStaged(tx, { projectKey, source, uploadId, now: takenAt });
      await compareWholeSets(tx, false);
      const flips = await refreshFileStates(tx, { projectKey, uuids: changed, now: takenAt });
      const forced = tooMany && input.force;
      const snapshotId = await recordSnapshot(tx, { ...base, status: "applied", size: diff.size, forced, message: forced ? "forced past the drop limit" : null });
      return { refused: null, result: { ...diff, ...flips, snapshotId, takenAt, forced } } as const;
    });
    if (outcome.refused !== null) throw new ConflictError(outcome.refused);
    const r = outcome.result;
    return {
      projectKey,
      source,
      snapshotId: r.snapshotId,
      takenAt: r.takenAt,
      size: r.size,
      previousSize: r.previousSize,
      added: r.added,
      removed: r.removed,
      unresolved,
      unresolvedSamples: samples,
      unknownFiles: r.unknownFiles,
      nowReferenced: r.nowReferenced,
      nowUnreferenced: r.nowUnreferenced,
      forced: r.forced,
    };
  } finally {
    await dropStaged(deps.db, projectKey, uploadId);
  }
}
