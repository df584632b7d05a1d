import { sql } from "drizzle-orm";
import type pg from "pg";
import type { Db } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { refreshDailyRollup } from "../../src/db/queries/rollup.ts";
import { queryRows } from "../../src/db/query.ts";
import { dateToTimestamp } from "../../src/db/timestamps.ts";
import type { FileRecord } from "../../src/sync/files/file-record.ts";
import { writeFiles, type WriteContext } from "../../src/sync/files/write-files.ts";
import type { TestDatabase } from "../support/db.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { recordPricing } from "../../src/db/queries/pricing-plans.ts";
import { parsePricing } from "../../src/pricing-schema.ts";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A canonical timestamp `ms` milliseconds before now. */
export const ago = (ms: number) => dateToTimestamp(new Date(Date.now() - ms));

/** A uuid from a number, distinct per prefix. */
export function uuidOf(n: number, prefix = 0): string {
  return `${String(prefix).padStart(8, "0")}-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

export interface FileSpec {
  uuid: string;
  uploaded: string;
  stored?: string | null;
  removed?: string | null;
  size?: number;
  mimeType?: string;
  filename?: string;
  image?: { width: number; height: number; format: string };
  videoDurationMs?: number;
  infectedWith?: string | null | undefined;
  metadata?: Record<string, string>;
}

/** A file as Uploadcare would send it, turned into the record the sync writes. */
export function fileRecord(spec: FileSpec): FileRecord {
  const mimeType = spec.mimeType ?? "image/jpeg";
  const [type = "", subtype = ""] = mimeType.split("/");
  const contentInfo: Record<string, unknown> = { mime: { mime: mimeType, type, subtype } };
  if (spec.image) contentInfo.image = { ...spec.image, sequence: false, color_mode: "RGB", orientation: null, geo_location: null, datetime_original: null, dpi: null };
  if (spec.videoDurationMs !== undefined) contentInfo.video = { duration: spec.videoDurationMs, format: subtype, bitrate: 900, audio: [], video: [] };
  const appdata =
    spec.infectedWith === undefined
      ? null
      : {
          uc_clamav_virus_scan: {
            data: { infected: spec.infectedWith !== null, infected_with: spec.infectedWith },
            version: "0.105.1",
            datetime_created: spec.uploaded,
            datetime_updated: spec.uploaded,
          },
        };
  const removed = spec.removed ?? null;
  const stored = removed ? null : (spec.stored ?? null);
  const filename = spec.filename ?? `${spec.uuid}.${subtype}`;
  const url = removed ? null : `https://ucarecdn.com/${spec.uuid}/${encodeURIComponent(filename)}`;
  const size = spec.size ?? 1000;
  const data: Record<string, unknown> = {
    uuid: spec.uuid,
    datetime_uploaded: spec.uploaded,
    datetime_stored: stored,
    datetime_removed: removed,
    size,
    mime_type: mimeType,
    is_image: type === "image",
    is_ready: true,
    original_filename: filename,
    original_file_url: url,
    url: `https://api.uploadcare.com/files/${spec.uuid}/`,
    variations: null,
    content_info: contentInfo,
    metadata: spec.metadata ?? {},
    ...(appdata ? { appdata } : {}),
  };
  return {
    uuid: spec.uuid,
    datetimeUploaded: spec.uploaded,
    datetimeStored: stored,
    datetimeRemoved: removed,
    size,
    mimeType,
    isImage: type === "image",
    isReady: true,
    originalFilename: filename,
    originalFileUrl: url,
    metadata: spec.metadata ?? {},
    appdata,
    data,
    // Written now: a later snapshot of the same file is observed later.
    observedAt: new Date().toISOString(),
  };
}

/** Writes files through the sync's own write path, so every change is an audit event. */
export async function writeSpecs(db: Db, projectKey: string, specs: FileSpec[], ctx: Partial<WriteContext> = {}): Promise<void> {
  await registerProjects(db, [{ projectKey, name: `${projectKey} name`, isDemo: false }]);
  await writeFiles(db, { projectKey, source: "sync", runId: null, actor: "ucledger:sync", now: () => new Date(), ...ctx }, specs.map(fileRecord));
}

/**
 * A project with something for every reporting view and every example query in
 * docs/analysts.md: files in every state over three months, images, videos, an
 * infected file, removals by a person last week, API requests with errors, sync
 * runs and Uploadcare's usage figures.
 */
export async function seedReportingProject(db: Db, projectKey: string): Promise<FileSpec[]> {
  const mimes = ["image/jpeg", "image/png", "video/mp4", "application/pdf"] as const;
  const specs: FileSpec[] = [];
  for (let i = 0; i < 48; i++) {
    const mimeType = mimes[i % mimes.length]!;
    const uploadedMs = (90 - i * 1.8) * DAY_MS;
    specs.push({
      uuid: uuidOf(i, 7),
      uploaded: ago(uploadedMs),
      stored: i % 5 === 4 ? null : ago(uploadedMs - HOUR_MS),
      size: 50_000 + i * 123_457,
      mimeType,
      filename: `file-${i}.${mimeType.split("/")[1]}`,
      ...(mimeType.startsWith("image/") ? { image: { width: 800 + i * 40, height: 600 + i * 30, format: mimeType === "image/png" ? "PNG" : "JPEG" } } : {}),
      ...(mimeType === "video/mp4" ? { videoDurationMs: 15_000 + i * 1_000 } : {}),
      infectedWith: i === 10 ? "Win.Test.EICAR_HDB-1" : i % 3 === 0 ? null : undefined,
      metadata: i % 2 === 0 ? { subsystem: i % 4 === 0 ? "uploader" : "import" } : {},
    });
  }
  // Temporary files uploaded recently: they expire within the next few hours.
  for (let i = 0; i < 3; i++) specs.push({ uuid: uuidOf(100 + i, 7), uploaded: ago((20 + i) * HOUR_MS), size: 9_000_000 + i, mimeType: "video/webm" });
  await writeSpecs(db, projectKey, specs);

  // Last week a person deleted some stored files; the sync saw another go earlier.
  const removedByHand = specs.filter((s) => s.stored && Number(s.uuid.slice(-2)) % 6 === 1).slice(0, 4);
  await writeSpecs(
    db,
    projectKey,
    removedByHand.map((s) => ({ ...s, removed: ago(3 * DAY_MS) })),
    { source: "action", actor: "cli:alice" },
  );
  await writeSpecs(db, projectKey, [{ ...specs[2]!, removed: ago(40 * DAY_MS) }]);

  for (let d = 0; d < 10; d++) {
    const at = Date.now() - d * DAY_MS;
    for (let r = 0; r < 6; r++) {
      const status = r === 0 && d % 2 === 0 ? 500 : r === 1 && d % 3 === 0 ? 429 : r === 2 && d === 4 ? null : 200;
      await db.execute(sql`insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt, bytes, error)
        values (${projectKey}, gen_random_uuid(), ${dateToTimestamp(new Date(at - r * 60_000))}::timestamptz, 'ucledger', 'rest', 'GET',
          ${r % 2 === 0 ? "/files/" : `/files/${uuidOf(r, 7)}/`}, ${status}, ${20 + r * 15 + d}, 1, ${status === null ? null : 700},
          ${status === null ? "timeout" : status >= 400 ? `HTTP ${status}` : null})`);
    }
    await db.execute(sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at) values
      (${projectKey}, (now() at time zone 'UTC')::date - ${d}::int, 'storage', ${1_000_000_000 + d * 1000}, 'bytes', now()),
      (${projectKey}, (now() at time zone 'UTC')::date - ${d}::int, 'traffic', ${5_000_000 + d * 77}, 'bytes', now())`);
    for (const [lane, status] of [["new", d === 2 ? "failed" : "ok"], ["reconcile", "ok"]] as const) {
      await db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, finished_at, status, pages, seen, inserted, changed, error)
        values (${projectKey}, gen_random_uuid(), 'files', ${lane}, ${dateToTimestamp(new Date(at))}::timestamptz,
          ${dateToTimestamp(new Date(at + 4_200 + d * 10))}::timestamptz, ${status}, 3, 2500, 10, 2, ${status === "failed" ? "HTTP 503 from Uploadcare" : null})`);
    }
  }
  // A plan of the project's own, for fct_cost_daily (a later seed's project replaces it: one generation at a time).
  const pricing = {
    currency: "EUR",
    billingDay: 1,
    scope: "project",
    plan: { monthlyFee: "10.00", included: { storageGb: 2, trafficGb: 5, operations: 1000 }, pricePerExtra: { storageGb: 0.5, trafficGb: 0.1, thousandOperations: 0.25 } },
  };
  await recordPricing(db, parsePricing(pricing, [projectKey]), new Date());
  // One applied delete plan of two files (one done, one failed), for fct_plan_item.
  await db.execute(sql`
    with pol as (
      insert into policies (project_key, id, name, action, conditions, version, created_at, created_by, updated_at, updated_by)
      values (${projectKey}, gen_random_uuid(), 'seed-delete', 'delete', '[]'::jsonb, 1, now(), 'test', now(), 'test') returning id
    ), plan as (
      insert into plans (project_key, id, policy_id, policy_version, policy, action, options, status, file_count, total_bytes,
                         excluded_count, required_approvals, proposed_by, proposed_at, expires_at, approved_at, applied_by, updated_at)
      select ${projectKey}, gen_random_uuid(), pol.id, 1, '{}'::jsonb, 'delete', '{}'::jsonb, 'applied', 2, 300, 0, 1,
             'token:seed', now() - interval '2 days', now() + interval '1 day', now() - interval '1 day', 'token:seed', now()
      from pol returning id
    )
    insert into plan_items (project_key, plan_id, seq, file_uuid, status, reason, size, state, datetime_uploaded, mime_type,
                            original_filename, evidence, batch, sent_at, finished_at, updated_at)
    select ${projectKey}, plan.id, s.seq, s.file_uuid::uuid, s.status, s.reason, 100 * s.seq, 'unstored', now() - interval '3 days',
           'image/png', 'seed.png', '{}'::jsonb, 1, now() - interval '1 day', now() - interval '1 day', now()
    from plan, (values (1, ${specs[0]!.uuid}, 'done', null), (2, ${specs[1]!.uuid}, 'failed', 'Missing in the project'))
      as s(seq, file_uuid, status, reason)`);
  // A reference source holding half the files, reported yesterday: for dim_file_v2 and fct_reference_snapshot.
  await replaceReferences(
    { db, now: () => new Date(Date.now() - DAY_MS), settings: { maxDropShare: 0.1, cdnDomains: [], sources: [] } },
    {
      projectKey,
      source: "app-db",
      kind: "push",
      references: (async function* () {
        for (const spec of specs.slice(0, 24)) yield { ref: `posts/${spec.uuid.slice(-4)}`, value: `https://ucarecdn.com/${spec.uuid}/-/preview/` };
      })(),
      force: false,
      actor: "seed",
    },
  );
  await refreshDailyRollup(db, projectKey);
  return specs;
}

/**
 * Runs SQL as the analysts' role (the shared ucledger_analyst unless `role` names
 * another): SET ROLE on PGlite's one connection, or on a pool client of its own on a server.
 */
export async function asAnalyst<T>(
  database: TestDatabase,
  body: (query: (text: string) => Promise<Record<string, unknown>[]>) => Promise<T>,
  role = "ucledger_analyst",
): Promise<T> {
  if (database.kind === "pglite") {
    await database.db.execute(sql`select set_config('role', ${role}, false)`);
    try {
      return await body(async (text) => queryRows<Record<string, unknown>>(database.db, sql.raw(text)));
    } finally {
      await database.db.execute(sql`reset role`);
    }
  }
  const client: pg.PoolClient = await database.pool!.connect();
  try {
    await client.query("select set_config('role', $1, false)", [role]);
    return await body(async (text) => (await client.query(text)).rows as Record<string, unknown>[]);
  } finally {
    await client.query("reset role").catch(() => {});
    client.release();
  }
}

/** The error's SQLSTATE and message, whichever driver threw it. */
export function dbError(err: unknown): { code: string | undefined; message: string } {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return { code: e.cause?.code ?? e.code, message: e.cause?.message ?? e.message ?? String(err) };
}

export { parseCsv } from "../support/csv.ts";
