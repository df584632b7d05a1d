import { sql } from "drizzle-orm";
import type { Db } from "../src/db/client.ts";

/**
 * Rows generated in SQL: 90% of files in benchproj1, 10% in benchproj2; 85% stored,
 * 5% unstored, 10% removed, 0.5% missing; a third with metadata source=…, a third
 * with virus-scan appdata. Secondary indexes are dropped during the load and rebuilt
 * after (much faster than maintaining them row by row), then the tables are analyzed.
 */
export async function loadLedger(db: Db, counts: { files: number; events: number; apiRequests: number }): Promise<void> {
  const { files: FILES, events: EVENTS, apiRequests: API_REQUESTS } = counts;
  const indexes = (await db.execute(sql`select indexname, indexdef from pg_indexes
    where schemaname = 'public' and tablename in ('files', 'file_events') and indexname not like '%_pkey'`)) as unknown as { rows: { indexname: string; indexdef: string }[] };
  for (const ix of indexes.rows) await db.execute(sql.raw(`drop index ${ix.indexname}`));
  await db.execute(sql`insert into projects (project_key, name) values ('benchproj1', 'bench one'), ('benchproj2', 'bench two')`);
  await db.execute(sql.raw(`
    insert into files (project_key, uuid, datetime_uploaded, datetime_stored, datetime_removed, size, mime_type, is_image, is_ready,
      original_filename, original_file_url, metadata, appdata, data, missing_since, missed_scans, first_seen_at, updated_at)
    select p, u, up,
      case when b < 85 or b >= 95 then up + interval '2 seconds' end,
      case when b >= 90 then up + interval '3 days' end,
      1000 + (i * 7919) % 20000000, m, m like 'image/%', true, fname, 'https://ucarecdn.com/' || u || '/',
      case when i % 3 = 0 then jsonb_build_object('source', (array['web','mobile','api'])[1 + (i / 3) % 3], 'user', 'u' || (i % 5000))
           else jsonb_build_object('user', 'u' || (i % 5000)) end,
      case when i % 3 = 1 then '{"uc_clamav_virus_scan": {"data": {"infected": false}}}'::jsonb end,
      jsonb_build_object('uuid', u, 'size', 1000 + (i * 7919) % 20000000, 'mime_type', m, 'original_filename', fname,
        'datetime_uploaded', up, 'is_image', m like 'image/%', 'is_ready', true, 'url', 'https://api.uploadcare.com/files/' || u || '/'),
      case when i % 200 = 1 then up + interval '30 days' end, case when i % 200 = 1 then 2 else 0 end, up, up
    from (
      select i, case when i % 10 = 0 then 'benchproj2' else 'benchproj1' end as p, md5('file' || i)::uuid as u,
        timestamptz '2023-01-01 00:00:00+00' + i * interval '60 seconds' + (i % 997) * interval '1 microsecond' as up,
        (i * 37) % 100 as b,
        (array['image/jpeg','image/jpeg','image/jpeg','image/jpeg','image/png','image/png','image/png','application/pdf','application/pdf','video/mp4',
               'image/webp','text/plain','application/zip','image/gif','audio/mpeg','image/heic','text/csv','application/json','image/svg+xml','application/octet-stream'])[1 + (i * 13) % 20] as m,
        case when i % 1000 = 1 then 'Résumé, "final"' || chr(10) || 'v' || i || '.pdf' else 'photo_' || i || '.jpg' end as fname
      from generate_series(1::bigint, ${FILES}::bigint) as i
    ) g`));
  // Events: a chain-shaped sequence per project (the API lists them; verification is not benchmarked).
  await db.execute(sql.raw(`
    insert into file_events (project_key, seq, file_uuid, kind, before, after, occurred_at, observed_at, source, actor, prev_hash, hash)
    select case when i % 10 = 0 then 'benchproj2' else 'benchproj1' end,
      row_number() over (partition by i % 10 = 0 order by i), md5('file' || i)::uuid,
      (array['uploaded','stored','removed','metadata_changed'])[1 + i % 4], null, '{"x": 1}'::jsonb, null,
      timestamptz '2023-01-01 00:00:00+00' + (i / 100) * interval '60 seconds', 'sync', 'ucledger:sync', repeat('0', 64), md5(i::text) || md5(i::text)
    from generate_series(1, ${EVENTS}) i`));
  await db.execute(sql.raw(`
    insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt)
    select case when i % 10 = 0 then 'benchproj2' else 'benchproj1' end, gen_random_uuid(),
      now() - i * interval '10 seconds', 'ucledger', 'rest', 'GET', '/files/',
      case when i % 50 = 0 then 503 when i % 20 = 0 then 429 else 200 end, 50 + i % 300, 1
    from generate_series(1, ${API_REQUESTS}) i`));
  await db.execute(sql.raw(`
    insert into usage_daily (project_key, date, metric, value, unit, fetched_at)
    select p, date '2024-01-01' + d, m, d * 1000, 'units', now()
    from unnest(array['benchproj1', 'benchproj2']) p, generate_series(0, 364) d, unnest(array['traffic','storage','operations','uploads','requests']) m`));
  await db.execute(sql.raw(`
    insert into sync_runs (project_key, id, stream, lane, started_at, finished_at, status, pages, seen)
    select case when i % 2 = 0 then 'benchproj1' else 'benchproj2' end, gen_random_uuid(), 'files', 'new',
      now() - i * interval '5 minutes', now() - i * interval '5 minutes' + interval '3 seconds', 'ok', 1, 100
    from generate_series(1, 5000) i`));
  for (const ix of indexes.rows) await db.execute(sql.raw(ix.indexdef));
  // A fresh bulk load has no statistics and no visibility map: give it both, as autovacuum would.
  await db.execute(sql`vacuum analyze files`);
  await db.execute(sql`vacuum analyze file_events`);
  await db.execute(sql`analyze`);
}
