import { sql } from "drizzle-orm";
import type { Db, Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { canonicalTimestamp, dateToTimestamp } from "../../db/timestamps.ts";
import { admitFile, quarantineEntry, type QuarantineEntry } from "../files/admit.ts";
import { diffFile } from "../files/diff.ts";
import type { FileRecord } from "../files/file-record.ts";
import type { LaneRun } from "../files/lane-deps.ts";
import { applySnapshots, heldRecord } from "../files/write-files.ts";
import type { UploadcareClient } from "../uploadcare/client.ts";
import { inspectDelivery } from "./receive.ts";

/** Deliveries read per round trip. */
const INBOX_BATCH = 200;
/** File reads in flight at once when deliveries are re-read. */
const REREAD_CONCURRENCY = 8;

interface InboxRow {
  body_sha256: string;
  raw_body: string | null;
  body: unknown;
  received_at: string;
}

/** One delivery, read back from the inbox and admitted like any other snapshot. */
interface Delivery {
  sha: string;
  receivedAt: string;
  fileUuid: string | null;
  record: FileRecord | null;
  quarantine: QuarantineEntry | null;
  actor: string;
}

export interface InboxDeps {
  db: Db;
  client: UploadcareClient;
  now: () => Date;
  fence?: (tx: Queryable) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Applies stored deliveries in the order they arrived. A delivery is a snapshot
 * observed when it was received; it is applied as sent only when nothing it
 * changes could be older than what the ledger holds: a file the ledger has not
 * seen, or a store or removal (which carry Uploadcare's own times). Anything
 * else — metadata, appdata, several deliveries for one file, a delivery that
 * cannot be stored as sent — is a hint: the file is read again
 * (`GET /files/{uuid}/`, recorded in the API log) and that answer is applied.
 * Each file's deliveries are claimed with `for update skip locked` in the
 * transaction that applies them, so two inbox runs never apply one twice.
 */
export async function applyWebhookInbox(deps: InboxDeps, projectKey: string, run: LaneRun): Promise<void> {
  let after: { receivedAt: string; sha: string } | null = null;
  for (;;) {
    deps.signal?.throwIfAborted();
    const rows: InboxRow[] = await queryRows<InboxRow>(
      deps.db,
      sql`select body_sha256, raw_body, body, received_at::text as received_at from webhook_inbox
          where project_key = ${projectKey} and applied_at is null
            ${after ? sql`and (received_at, body_sha256) > (${after.receivedAt}::timestamptz, ${after.sha})` : sql``}
          order by received_at, body_sha256 limit ${INBOX_BATCH}`,
    );
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    after = { receivedAt: last.received_at, sha: last.body_sha256 };

    const deliveries = rows.map(readDelivery);
    const groups = groupByFile(deliveries);
    const held = await readHeld(deps.db, projectKey, [...groups.keys()].filter((k): k is string => k !== null));
    const toReread = [...groups.entries()]
      .filter(([uuid, group]) => uuid !== null && !canApplyAsSent(group, held.get(uuid) ?? null))
      .map(([uuid]) => uuid!);
    const reread = await rereadAll(deps.client, toReread, deps.signal);

    for (const [uuid, group] of groups) {
      const fresh = uuid !== null ? reread.get(uuid) : undefined;
      // As sent: each delivery in arrival order; re-read: the one answer.
      const newestActor = group[group.length - 1]!.actor;
      const snapshots =
        fresh !== undefined
          ? fresh.record
            ? [{ record: fresh.record, actor: newestActor }]
            : []
          : group.flatMap((d) => (d.record ? [{ record: d.record, actor: d.actor }] : []));
      const quarantine = [...group.flatMap((d) => (d.quarantine ? [d.quarantine] : [])), ...(fresh?.quarantine ? [fresh.quarantine] : [])];
      const claimed = await applyGroup(deps, projectKey, run, group, snapshots, quarantine, fresh !== undefined);
      // Null: another inbox run claimed these deliveries first and applies them.
      if (claimed !== null) run.counts.seen += claimed;
    }
    run.counts.pages += 1;
    if (rows.length < INBOX_BATCH) return;
  }
}

function readDelivery(row: InboxRow): Delivery {
  const receivedAt = canonicalTimestamp(row.received_at);
  const raw = row.raw_body ?? JSON.stringify(row.body);
  let json: unknown;
  try {
    json = raw.startsWith("base64:") ? undefined : JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const inspected = inspectDelivery(json);
  const actor = `uploadcare:${inspected.initiator ?? "unknown"}`;
  if (!inspected.valid) {
    return { sha: row.body_sha256, receivedAt, fileUuid: inspected.fileUuid, record: null, actor,
      quarantine: quarantineEntry(raw, inspected.fileUuid, "webhook", inspected.problem ?? "body: not a file webhook") };
  }
  const admitted = admitFile((json as { data: unknown }).data, "webhook", receivedAt);
  return { sha: row.body_sha256, receivedAt, fileUuid: admitted.record?.uuid ?? inspected.fileUuid, record: admitted.record, quarantine: admitted.quarantine, actor };
}

/** Deliveries per file, in arrival order; those naming no readable file share the null key (set aside together). */
function groupByFile(deliveries: Delivery[]): Map<string | null, Delivery[]> {
  const groups = new Map<string | null, Delivery[]>();
  for (const delivery of deliveries) {
    const group = groups.get(delivery.fileUuid) ?? [];
    group.push(delivery);
    groups.set(delivery.fileUuid, group);
  }
  return groups;
}

/**
 * Deliveries are applied as sent only when each, taken in arrival order, is
 * storable and changes nothing but what carries Uploadcare's own time (a store,
 * a removal) — or shows a file the ledger has not seen. An upload followed by
 * its store qualifies; two metadata updates, which could have arrived in either
 * order, do not.
 */
function canApplyAsSent(group: Delivery[], held: FileRecord | null): boolean {
  let state = held;
  for (const delivery of group) {
    if (!delivery.record || delivery.quarantine) return false;
    if (state !== null && !diffFile(state, delivery.record).every((change) => change.kind === "stored" || change.kind === "removed")) return false;
    state = delivery.record;
  }
  return true;
}

async function readHeld(db: Db, projectKey: string, uuids: string[]): Promise<Map<string, FileRecord>> {
  if (uuids.length === 0) return new Map();
  const rows = await queryRows<{ uuid: string; data: Record<string, unknown>; observed_at: string | null }>(
    db,
    sql`select uuid::text as uuid, data, observed_at::text as observed_at from files
        where project_key = ${projectKey} and uuid = any(${sql.param(uuids)}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.uuid, heldRecord(row)]));
}

interface Reread {
  record: FileRecord | null;
  quarantine: QuarantineEntry | null;
}

/** Reads each file again, a few at a time; a file Uploadcare no longer knows answers null. */
async function rereadAll(client: UploadcareClient, uuids: string[], signal?: AbortSignal): Promise<Map<string, Reread>> {
  const out = new Map<string, Reread>();
  let next = 0;
  const worker = async () => {
    while (next < uuids.length) {
      signal?.throwIfAborted();
      const uuid = uuids[next++]!;
      const answer = await client.fileSnapshot(uuid);
      out.set(uuid, answer ? admitFile(answer.item, "file_info", dateToTimestamp(answer.observedAt)) : { record: null, quarantine: null });
    }
  };
  await Promise.all(Array.from({ length: Math.min(REREAD_CONCURRENCY, uuids.length) }, worker));
  return out;
}

/** Claims the group's deliveries, applies the snapshot and marks them, in one transaction: how many it claimed, null for none. */
async function applyGroup(
  deps: InboxDeps,
  projectKey: string,
  run: LaneRun,
  group: Delivery[],
  snapshots: { record: FileRecord; actor: string }[],
  quarantine: QuarantineEntry[],
  wasReread: boolean,
): Promise<number | null> {
  const newest = group[group.length - 1]!;
  return deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    const claimed = await queryRows<{ body_sha256: string }>(
      tx,
      sql`select body_sha256 from webhook_inbox
          where project_key = ${projectKey} and body_sha256 = any(${sql.param(group.map((d) => d.sha))}::text[]) and applied_at is null
          for update skip locked`,
    );
    if (claimed.length === 0) return null;
    const ctx = { projectKey, source: "webhook" as const, runId: run.runId, actor: newest.actor, now: deps.now };
    const counts = await applySnapshots(tx, ctx, [], quarantine);
    // One at a time: each is compared with what the one before it left.
    for (const snapshot of snapshots) {
      const step = await applySnapshots(tx, { ...ctx, actor: snapshot.actor }, [snapshot.record]);
      counts.inserted += step.inserted;
      counts.changed += step.changed;
      counts.stale += step.stale;
    }
    const outcome =
      snapshots.length === 0
        ? wasReread
          ? "not_found"
          : "set_aside"
        : counts.stale > 0
          ? "stale"
          : counts.inserted + counts.changed > 0
            ? wasReread
              ? "reread"
              : "applied"
            : "unchanged";
    await tx.execute(sql`
      update webhook_inbox set applied_at = ${dateToTimestamp(deps.now())}::timestamptz, outcome = ${outcome}
      where project_key = ${projectKey} and body_sha256 = any(${sql.param(claimed.map((c) => c.body_sha256))}::text[])`);
    run.counts.inserted += counts.inserted;
    run.counts.changed += counts.changed;
    run.counts.quarantined += counts.quarantined;
    return claimed.length;
  });
}
