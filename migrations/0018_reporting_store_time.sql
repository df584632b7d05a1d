-- Custom SQL migration file, put your code below! --
-- Store times that survive deletion, for analysts. Uploadcare clears a file's
-- datetime_stored when it is deleted; files.last_stored_at (migration 0016) keeps the
-- last store time the ledger saw. Store-time history reads
-- coalesce(datetime_stored, last_stored_at), the kept store time:
-- * daily_file_rollup counts each day's stores by it (src/db/queries/rollup.ts), so a
--   deletion no longer takes a file out of the day it was stored on. Its stored
--   column changes meaning, so the rollup is recounted here, and
-- * fct_daily_files_v2 publishes that count: every fct_daily_files column, same order,
--   with stored and bytes_stored counting files stored that day, removed since or not;
-- * fct_daily_files keeps its published meaning (stored that day and not removed since):
--   recreated with the same columns, it takes away the files whose store time
--   Uploadcare cleared (the rule for a view whose table changes under it, docs/analysts.md);
-- * dim_file_v3 is dim_file_v2, same columns in the same order and meaning, then
--   last_stored_at, the kept store time: storage at any past moment in one query.
-- Published views are not edited otherwise: the surface only grows.
--
-- Day ranges on the kept store time (the rollup's refresh, the weekly report) read
-- this index; the queries write the expression exactly so. Partial: files never
-- stored are left out.
CREATE INDEX files_kept_stored_at_idx ON files (project_key, (coalesce(datetime_stored, last_stored_at)))
  WHERE coalesce(datetime_stored, last_stored_at) IS NOT NULL;
--> statement-breakpoint
-- fct_daily_files reads the files stored and then deleted (store time cleared, kept
-- store time set), by day, from this index alone. Partial: only those files.
CREATE INDEX files_cleared_store_idx ON files (project_key, last_stored_at) INCLUDE (size)
  WHERE datetime_stored IS NULL AND last_stored_at IS NOT NULL;
--> statement-breakpoint
-- Every rollup recounted from files: stores by the kept store time. 0016 filled in
-- last_stored_at without audit events, so no refresh would find those days touched.
DELETE FROM daily_file_rollup;
--> statement-breakpoint
INSERT INTO daily_file_rollup (project_key, day, uploads, bytes_uploaded, stored, bytes_stored, removed, bytes_removed, refreshed_at)
SELECT f.project_key, (m.at AT TIME ZONE 'UTC')::date,
  count(*) FILTER (WHERE m.what = 'u')::int,
  coalesce(sum(f.size) FILTER (WHERE m.what = 'u'), 0)::bigint,
  count(*) FILTER (WHERE m.what = 's')::int,
  coalesce(sum(f.size) FILTER (WHERE m.what = 's'), 0)::bigint,
  count(*) FILTER (WHERE m.what = 'r')::int,
  coalesce(sum(f.size) FILTER (WHERE m.what = 'r'), 0)::bigint,
  now()
FROM files f
JOIN daily_file_rollup_state st ON st.project_key = f.project_key
CROSS JOIN LATERAL (VALUES (f.datetime_uploaded, 'u'), (coalesce(f.datetime_stored, f.last_stored_at), 's'), (f.datetime_removed, 'r')) m(at, what)
WHERE m.at IS NOT NULL
GROUP BY f.project_key, (m.at AT TIME ZONE 'UTC')::date;
--> statement-breakpoint
UPDATE daily_file_rollup_state SET refreshed_at = now();
--> statement-breakpoint
-- The same columns, names, types and meaning as before. The rollup counts a store on
-- its day whether the file was removed since or not; this view never did, so the files
-- whose store time Uploadcare cleared are taken away again. Exact whenever the rollup is
-- up to date (it is refreshed right after each files sync).
CREATE OR REPLACE VIEW reporting.fct_daily_files AS
WITH span AS (
  SELECT r.project_key, min(r.day) AS first_day, greatest(max(r.day), (now() AT TIME ZONE 'UTC')::date) AS last_day
  FROM daily_file_rollup r
  GROUP BY r.project_key
), days AS (
  SELECT s.project_key, s.first_day + i AS day
  FROM span s CROSS JOIN LATERAL generate_series(0, s.last_day - s.first_day) AS i
), cleared AS (
  SELECT f.project_key, (f.last_stored_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS stored, sum(f.size)::bigint AS bytes_stored
  FROM files f
  WHERE f.datetime_stored IS NULL AND f.last_stored_at IS NOT NULL
  GROUP BY f.project_key, (f.last_stored_at AT TIME ZONE 'UTC')::date
)
SELECT
  d.project_key,
  d.day,
  coalesce(r.uploads, 0) AS uploads,
  coalesce(r.bytes_uploaded, 0::bigint) AS bytes_uploaded,
  coalesce(r.stored, 0) - coalesce(c.stored, 0) AS stored,
  coalesce(r.bytes_stored, 0::bigint) - coalesce(c.bytes_stored, 0::bigint) AS bytes_stored,
  coalesce(r.removed, 0) AS removed,
  coalesce(r.bytes_removed, 0::bigint) AS bytes_removed,
  (sum(coalesce(r.uploads, 0) - coalesce(r.removed, 0)) OVER w)::bigint AS storage_files_eod,
  (sum(coalesce(r.bytes_uploaded, 0) - coalesce(r.bytes_removed, 0)) OVER w)::bigint AS storage_bytes_eod
FROM days d
LEFT JOIN daily_file_rollup r ON r.project_key = d.project_key AND r.day = d.day
LEFT JOIN cleared c ON c.project_key = d.project_key AND c.day = d.day
WINDOW w AS (PARTITION BY d.project_key ORDER BY d.day);
--> statement-breakpoint
CREATE VIEW reporting.fct_daily_files_v2 AS
WITH span AS (
  SELECT r.project_key, min(r.day) AS first_day, greatest(max(r.day), (now() AT TIME ZONE 'UTC')::date) AS last_day
  FROM daily_file_rollup r
  GROUP BY r.project_key
), days AS (
  SELECT s.project_key, s.first_day + i AS day
  FROM span s CROSS JOIN LATERAL generate_series(0, s.last_day - s.first_day) AS i
)
SELECT
  d.project_key,
  d.day,
  coalesce(r.uploads, 0) AS uploads,
  coalesce(r.bytes_uploaded, 0::bigint) AS bytes_uploaded,
  coalesce(r.stored, 0) AS stored,
  coalesce(r.bytes_stored, 0::bigint) AS bytes_stored,
  coalesce(r.removed, 0) AS removed,
  coalesce(r.bytes_removed, 0::bigint) AS bytes_removed,
  (sum(coalesce(r.uploads, 0) - coalesce(r.removed, 0)) OVER w)::bigint AS storage_files_eod,
  (sum(coalesce(r.bytes_uploaded, 0) - coalesce(r.bytes_removed, 0)) OVER w)::bigint AS storage_bytes_eod
FROM days d
LEFT JOIN daily_file_rollup r ON r.project_key = d.project_key AND r.day = d.day
WINDOW w AS (PARTITION BY d.project_key ORDER BY d.day);
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_daily_files_v2 IS 'fct_daily_files with stores counted on the day of the store time the ledger kept, so a deletion does not change a past day: every fct_daily_files column, same order; only stored and bytes_stored differ in meaning (they include files removed since). One row per project and UTC day from its first upload to today. From a rollup refreshed after every files sync (dim_project.daily_files_refreshed_at).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.day IS 'The UTC date.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.uploads IS 'Files uploaded that day (whatever became of them since).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.bytes_uploaded IS 'Bytes of the files uploaded that day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.stored IS 'Files whose last store request, as the ledger saw it, was that day, whether removed since or not: a deletion does not take a file out of the day it was stored on (fct_daily_files.stored leaves removed files out, since Uploadcare clears the store time on delete).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.bytes_stored IS 'Bytes of the files counted in stored.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.removed IS 'Files removed that day (stored or temporary).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.bytes_removed IS 'Bytes of the files removed that day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.storage_files_eod IS 'Files held at the end of the day: uploaded by then and not removed by then, stored or temporary; files marked missing still count.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files_v2.storage_bytes_eod IS 'Bytes of the files counted in storage_files_eod: the project''s storage at the end of the day as the ledger knows it.';
--> statement-breakpoint
CREATE VIEW reporting.dim_file_v3 AS
SELECT v.*, coalesce(f.datetime_stored, f.last_stored_at) AS last_stored_at
FROM reporting.dim_file_v2 v
JOIN files f ON f.project_key = v.project_key AND f.uuid = v.file_uuid;
--> statement-breakpoint
COMMENT ON VIEW reporting.dim_file_v3 IS 'dim_file_v2 with each file''s store time kept after deletion: every dim_file_v2 column, same order and meaning, then last_stored_at. Use it for storage at a past moment (stored_at is cleared on delete, so dim_file loses a deleted file''s store time).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.file_uuid IS 'Uploadcare''s file UUID; unique within a project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.original_filename IS 'The file name as uploaded.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.state IS 'stored (kept by Uploadcare), unstored (temporary: Uploadcare removes it 24 hours after upload unless stored), removed (deleted), or missing (no longer listed by Uploadcare although no removal was seen).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.uploaded_at IS 'When the file was uploaded (microseconds, UTC).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.upload_day IS 'The UTC date of uploaded_at; joins fct_daily_files.day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.stored_at IS 'When the file was last stored; null when never stored and also after removal (Uploadcare clears it on delete).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.removed_at IS 'When the file was deleted; null while it exists.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.missing_since IS 'When the ledger found the file gone from Uploadcare''s listings without a removal; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.expires_at IS 'For unstored files, when Uploadcare will remove them (uploaded_at + 24 hours) unless stored first; null for all other states.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.age_days IS 'Whole days since upload, as of the query.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.size_bytes IS 'Size in bytes.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.size_mb IS 'Size in megabytes (1 MB = 1,000,000 bytes), rounded to 3 decimals.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.mime_type IS 'The full MIME type as Uploadcare detected it, e.g. image/jpeg.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.mime_main_type IS 'The part of mime_type before the slash: image, video, application, text, audio, …';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.mime_subtype IS 'The part of mime_type after the slash, e.g. jpeg or pdf; null when there is none.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.is_image IS 'Uploadcare''s verdict: an image it can transform; null while unknown.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.is_ready IS 'Whether Uploadcare has finished processing the upload.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.image_width IS 'Width in pixels, for images (content_info.image.width); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.image_height IS 'Height in pixels, for images (content_info.image.height); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.image_format IS 'Image format as Uploadcare reports it (JPEG, PNG, WEBP, GIF, HEIF, …); null for non-images.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.video_duration_s IS 'Duration in seconds, for videos (content_info.video.duration); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.is_infected IS 'The ClamAV add-on''s verdict (appdata uc_clamav_virus_scan): true infected, false clean, null when the file was never scanned.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.infected_with IS 'The malware ClamAV named, for infected files; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.metadata IS 'The file''s Uploadcare metadata: a JSON object of string keys and values ({} when none). Read a key with metadata->>''key''.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.original_file_url IS 'The CDN URL of the original; null once removed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.first_seen_at IS 'When the ledger first saw the file.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.last_changed_at IS 'When the ledger last recorded a change to the file.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.is_referenced IS 'True when a reference source holds the file in its current set, or when a stale source (not reported within its interval) has not reported since the file lost its last reference; false when nothing references it; null while the project has no reference source.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.unreferenced_since IS 'When is_referenced is false: since when nothing references the file (when its last reference went away, or its upload, but never before every source of the project had first reported). Null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v3.last_stored_at IS 'When the file was last stored, as the ledger saw it: stored_at while the file is there, and kept after removal (Uploadcare clears stored_at on delete); null when the ledger never saw it stored. The file was in stored storage at a moment t when last_stored_at < t and (removed_at IS NULL OR removed_at >= t).';
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    GRANT SELECT ON reporting.fct_daily_files_v2, reporting.dim_file_v3 TO ucledger_analyst;
  END IF;
END
$$;
