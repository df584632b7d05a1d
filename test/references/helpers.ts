import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { fileReferenceStatus } from "../../src/db/queries/reference-status.ts";
import { queryRows } from "../../src/db/query.ts";
import type { ReferenceSettings } from "../../src/env.ts";
import type { IncomingReference, ReferenceDeps } from "../../src/sync/references/replace.ts";

export const SETTINGS: ReferenceSettings = { maxDropShare: 0.1, cdnDomains: ["cdn.example.com", "example.org/media"], sources: [] };

/** A clock the test moves by hand. */
export function clock(start = "2026-03-01T00:00:00Z") {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance(hours: number) {
      t += hours * 3_600_000;
    },
    iso: () => new Date(t).toISOString(),
  };
}

export function deps(db: Db, now: () => Date, settings: Partial<ReferenceSettings> = {}): ReferenceDeps {
  return { db, now, settings: { ...SETTINGS, ...settings } };
}

/** Values in the shapes applications keep, cycling by index: bare, CDN with operations, custom domain. */
export function valueFor(uuid: string, i: number): string {
  switch (i % 5) {
    case 0:
      return uuid;
    case 1:
      return `https://ucarecdn.com/${uuid}/-/resize/200x/`;
    case 2:
      return `https://ucarecdn.com/${uuid.toUpperCase()}/-/preview/-/format/webp/photo.jpg?v=2`;
    case 3:
      return `https://abc123.ucarecd.net/${uuid}/`;
    default:
      return `https://cdn.example.com/${uuid}/-/crop/10x10/`;
  }
}

export function refsOf(uuids: string[]): IncomingReference[] {
  return uuids.map((uuid, i) => ({ ref: `orders/${i}`, value: valueFor(uuid, i) }));
}

export async function* stream<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export interface Status {
  uuid: string;
  is_referenced: boolean | null;
  unreferenced_since: string | null;
  held_by_stale: boolean | null;
}

/** Every file of the project with its reference status at `at`. */
export async function statuses(db: Db, projectKey: string, at: Date): Promise<Map<string, Status>> {
  const rows = await queryRows<Status>(
    db,
    sql`select f.uuid::text as uuid, st.is_referenced,
          to_char(st.unreferenced_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as unreferenced_since, st.held_by_stale
        from files f left join lateral (${fileReferenceStatus("f", sql`${at.toISOString()}::timestamptz`)}) st on true
        where f.project_key = ${projectKey}`,
  );
  return new Map(rows.map((r) => [r.uuid, r]));
}

export function referencedUuids(map: Map<string, Status>): string[] {
  return [...map.values()].filter((s) => s.is_referenced).map((s) => s.uuid).sort();
}
