import type pg from "pg";
import type { Db } from "../client.ts";
import { copyRows } from "../copy-rows.ts";
import { chainLinks, moveChainHead, type ChainHead, type NewEvent } from "./chain.ts";

const EVENT_COLUMNS = [
  "project_key", "seq", "file_uuid", "kind", "before", "after", "occurred_at", "observed_at",
  "source", "run_id", "plan_id", "actor", "prev_hash", "hash",
] as const;

/**
 * appendEvents for bulk loads on a server: the same links, hashed the same way,
 * streamed with COPY instead of one JSON parameter. The caller holds the
 * project's chain head (`lockedHead`) in the transaction `client` runs, so the
 * chain stays one writer at a time.
 */
export async function appendEventsByCopy(
  client: pg.PoolClient,
  tx: Db,
  projectKey: string,
  events: NewEvent[],
  lockedHead: ChainHead,
): Promise<ChainHead> {
  if (events.length === 0) return lockedHead;
  const { rows, next } = chainLinks(lockedHead, projectKey, events);
  await copyRows(
    client,
    "file_events",
    EVENT_COLUMNS,
    rows.map((r) => [
      projectKey,
      r.seq,
      r.file_uuid,
      r.kind,
      r.before === null ? null : JSON.stringify(r.before),
      r.after === null ? null : JSON.stringify(r.after),
      r.occurred_at,
      r.observed_at,
      r.source,
      r.run_id,
      r.plan_id,
      r.actor,
      r.prev_hash,
      r.hash,
    ]),
  );
  await moveChainHead(tx, projectKey, next);
  return next;
}
