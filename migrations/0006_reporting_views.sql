-- Custom SQL migration file, put your code below! --
-- The reporting schema: the one surface analysts and BI tools are told about.
-- Views only, named the facts-and-dimensions way; application tables may change
-- underneath, these may not (test/analyst/surface.test.ts holds every column and
-- type: a change is a new view such as dim_file_v2, never an edit). Every view and
-- column carries a COMMENT, which BI tools show and docs/analysts.md is built from.
-- Views run with their owner's rights, so readers need no grant on any table.
CREATE SCHEMA reporting;
--> statement-breakpoint
COMMENT ON SCHEMA reporting IS 'ucledger''s stable reporting surface for analysts and BI tools: dim_* views describe things, fct_* views record what happened. Columns never change meaning or type; a change ships as a new versioned view (dim_file_v2).';
--> statement-breakpoint
-- The daily rollup's refresh reads one day of stores and of removals per touched day.
-- Partial: only the rows that have the timestamp.
CREATE INDEX files_stored_at_idx ON files (project_key, datetime_stored) WHERE datetime_stored IS NOT NULL;
--> statement-breakpoint
CREATE INDEX files_removed_at_idx ON files (project_key, datetime_removed) WHERE datetime_removed IS NOT NULL;
--> statement-breakpoint
CREATE VIEW reporting.dim_project AS
SELECT
  p.project_key,
  p.name AS project_name,
  p.is_demo,
  p.added_at,
  (SELECT r.finished_at FROM sync_runs r
    WHERE r.project_key = p.project_key AND r.stream = 'files' AND r.status = 'ok'
    ORDER BY r.started_at DESC LIMIT 1) AS last_files_sync_at,
  (SELECT r.finished_at FROM sync_runs r
    WHERE r.project_key = p.project_key AND r.stream = 'usage' AND r.status = 'ok'
    ORDER BY r.started_at DESC LIMIT 1) AS last_usage_sync_at,
  (SELECT s.refreshed_at FROM daily_file_rollup_state s WHERE s.project_key = p.project_key) AS daily_files_refreshed_at
FROM projects p;
--> statement-breakpoint
COMMENT ON VIEW reporting.dim_project IS 'One row per Uploadcare project in the ledger, with how fresh its data is.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.project_key IS 'The project''s Uploadcare public key; joins every other view.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.project_name IS 'The name given in the configuration (the public key when none was given).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.is_demo IS 'True for the built-in sandbox project of demo mode: not real data.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.added_at IS 'When the ledger first saw the project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.last_files_sync_at IS 'When the last successful files sync run finished; null if none has. dim_file and fct_file_event are as fresh as this.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.last_usage_sync_at IS 'When the last successful usage sync run finished; null if none has. fct_usage_daily is as fresh as this.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_project.daily_files_refreshed_at IS 'When fct_daily_files was last brought up to date for the project (after each files sync); null if never.';
--> statement-breakpoint
CREATE VIEW reporting.dim_file AS
SELECT
  f.project_key,
  f.uuid AS file_uuid,
  f.original_filename,
  CASE
    WHEN f.datetime_removed IS NOT NULL THEN 'removed'
    WHEN f.missing_since IS NOT NULL THEN 'missing'
    WHEN f.datetime_stored IS NOT NULL THEN 'stored'
    ELSE 'unstored'
  END AS state,
  f.datetime_uploaded AS uploaded_at,
  (f.datetime_uploaded AT TIME ZONE 'UTC')::date AS upload_day,
  f.datetime_stored AS stored_at,
  f.datetime_removed AS removed_at,
  f.missing_since,
  CASE WHEN f.datetime_stored IS NULL AND f.datetime_removed IS NULL AND f.missing_since IS NULL
    THEN (f.datetime_uploaded + interval '24 hours')::timestamp(6) with time zone END AS expires_at,
  floor(extract(epoch FROM now() - f.datetime_uploaded) / 86400)::integer AS age_days,
  f.size AS size_bytes,
  round(f.size / 1000000.0, 3)::double precision AS size_mb,
  f.mime_type,
  split_part(f.mime_type, '/', 1) AS mime_main_type,
  nullif(split_part(f.mime_type, '/', 2), '') AS mime_subtype,
  f.is_image,
  f.is_ready,
  CASE WHEN jsonb_typeof(f.data #> '{content_info,image,width}') = 'number'
    THEN (f.data #>> '{content_info,image,width}')::numeric::integer END AS image_width,
  CASE WHEN jsonb_typeof(f.data #> '{content_info,image,height}') = 'number'
    THEN (f.data #>> '{content_info,image,height}')::numeric::integer END AS image_height,
  f.data #>> '{content_info,image,format}' AS image_format,
  CASE WHEN jsonb_typeof(f.data #> '{content_info,video,duration}') = 'number'
    THEN ((f.data #>> '{content_info,video,duration}')::numeric / 1000)::double precision END AS video_duration_s,
  (f.appdata #> '{uc_clamav_virus_scan,data,infected}') = 'true'::jsonb AS is_infected,
  f.appdata #>> '{uc_clamav_virus_scan,data,infected_with}' AS infected_with,
  f.metadata,
  f.original_file_url,
  f.first_seen_at,
  f.updated_at AS last_changed_at
FROM files f;
--> statement-breakpoint
COMMENT ON VIEW reporting.dim_file IS 'One row per file the ledger has seen, in its current state (removed files stay, with state removed). Fresh as of dim_project.last_files_sync_at.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.file_uuid IS 'Uploadcare''s file UUID; unique within a project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.original_filename IS 'The file name as uploaded.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.state IS 'stored (kept by Uploadcare), unstored (temporary: Uploadcare removes it 24 hours after upload unless stored), removed (deleted), or missing (no longer listed by Uploadcare although no removal was seen).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.uploaded_at IS 'When the file was uploaded (microseconds, UTC).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.upload_day IS 'The UTC date of uploaded_at; joins fct_daily_files.day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.stored_at IS 'When the file was last stored; null when never stored and also after removal (Uploadcare clears it on delete).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.removed_at IS 'When the file was deleted; null while it exists.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.missing_since IS 'When the ledger found the file gone from Uploadcare''s listings without a removal; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.expires_at IS 'For unstored files, when Uploadcare will remove them (uploaded_at + 24 hours) unless stored first; null for all other states.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.age_days IS 'Whole days since upload, as of the query.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.size_bytes IS 'Size in bytes.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.size_mb IS 'Size in megabytes (1 MB = 1,000,000 bytes), rounded to 3 decimals.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.mime_type IS 'The full MIME type as Uploadcare detected it, e.g. image/jpeg.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.mime_main_type IS 'The part of mime_type before the slash: image, video, application, text, audio, …';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.mime_subtype IS 'The part of mime_type after the slash, e.g. jpeg or pdf; null when there is none.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.is_image IS 'Uploadcare''s verdict: an image it can transform; null while unknown.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.is_ready IS 'Whether Uploadcare has finished processing the upload.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.image_width IS 'Width in pixels, for images (content_info.image.width); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.image_height IS 'Height in pixels, for images (content_info.image.height); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.image_format IS 'Image format as Uploadcare reports it (JPEG, PNG, WEBP, GIF, HEIF, …); null for non-images.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.video_duration_s IS 'Duration in seconds, for videos (content_info.video.duration); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.is_infected IS 'The ClamAV add-on''s verdict (appdata uc_clamav_virus_scan): true infected, false clean, null when the file was never scanned.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.infected_with IS 'The malware ClamAV named, for infected files; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.metadata IS 'The file''s Uploadcare metadata: a JSON object of string keys and values ({} when none). Read a key with metadata->>''key''.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.original_file_url IS 'The CDN URL of the original; null once removed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.first_seen_at IS 'When the ledger first saw the file.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file.last_changed_at IS 'When the ledger last recorded a change to the file.';
--> statement-breakpoint
CREATE VIEW reporting.fct_file_event AS
SELECT
  e.project_key,
  e.seq AS event_seq,
  e.file_uuid,
  e.kind AS event_kind,
  e.occurred_at,
  e.observed_at,
  (coalesce(e.occurred_at, e.observed_at) AT TIME ZONE 'UTC')::date AS event_day,
  e.source,
  e.actor,
  e.run_id,
  e.plan_id,
  e.before,
  e.after
FROM file_events e;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_file_event IS 'The audit trail: one row per observed change to a file (or project-level action), append-only. Filter on observed_at or occurred_at with a project_key for speed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.event_seq IS 'Position in the project''s audit chain: 1, 2, 3, … without gaps; unique within a project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.file_uuid IS 'The file (dim_file.file_uuid); null for project-level actions.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.event_kind IS 'uploaded (first sight, with the state then), stored, removed, metadata_changed, appdata_changed, changed (other fields), missing, reappeared, or action (something ucledger did).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.occurred_at IS 'When it happened at Uploadcare, when Uploadcare says so (upload, store and removal times); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.observed_at IS 'When the ledger recorded it.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.event_day IS 'The UTC date of occurred_at, or of observed_at when occurred_at is null.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.source IS 'How the ledger learned of it: sync (new files), webhook, reconcile (full scan), or action (ucledger acted itself).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.actor IS 'Who: ucledger:sync and the like for observations, cli:<user> or token:<name> for actions taken through ucledger.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.run_id IS 'The sync run that recorded it (fct_sync_run.run_id), as text; null when none.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.plan_id IS 'The decision plan an action belongs to; null when none.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.before IS 'The changed fields before, as a JSON object in Uploadcare''s field names; null for uploaded.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_file_event.after IS 'The changed fields after, as a JSON object in Uploadcare''s field names (for uploaded: the state at first sight).';
--> statement-breakpoint
CREATE VIEW reporting.fct_daily_files AS
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
COMMENT ON VIEW reporting.fct_daily_files IS 'One row per project and UTC day, from its first upload to today (days without activity included): uploads, stores, removals and what the project holds at the end of the day. From a rollup refreshed after every files sync (dim_project.daily_files_refreshed_at).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.day IS 'The UTC date.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.uploads IS 'Files uploaded that day (whatever became of them since).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.bytes_uploaded IS 'Bytes of the files uploaded that day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.stored IS 'Files whose last store request was that day and that are not removed since (Uploadcare clears the store time on delete).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.bytes_stored IS 'Bytes of the files counted in stored.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.removed IS 'Files removed that day (stored or temporary).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.bytes_removed IS 'Bytes of the files removed that day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.storage_files_eod IS 'Files held at the end of the day: uploaded by then and not removed by then, stored or temporary; files marked missing still count.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_daily_files.storage_bytes_eod IS 'Bytes of the files counted in storage_files_eod: the project''s storage at the end of the day as the ledger knows it.';
--> statement-breakpoint
CREATE VIEW reporting.fct_usage_daily AS
SELECT u.project_key, u.date AS day, u.metric, u.value, u.unit, u.fetched_at
FROM usage_daily u;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_usage_daily IS 'Uploadcare''s own daily usage figures (Project API), one row per project, day and metric. Fresh as of dim_project.last_usage_sync_at.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_usage_daily.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_usage_daily.day IS 'The date Uploadcare reports the figure for.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_usage_daily.metric IS 'traffic (CDN bytes served), storage (bytes stored) or operations (API operations).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_usage_daily.value IS 'The figure, in unit.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_usage_daily.unit IS 'The unit Uploadcare gives: bytes for traffic and storage, operations for operations.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_usage_daily.fetched_at IS 'When the ledger last fetched a changed value for this row.';
--> statement-breakpoint
CREATE VIEW reporting.fct_api_request AS
SELECT
  r.project_key,
  r.id AS request_id,
  r.requested_at,
  (r.requested_at AT TIME ZONE 'UTC')::date AS day,
  r.source,
  r.api,
  r.method,
  r.path,
  r.status,
  CASE
    WHEN r.status IS NULL THEN 'no_answer'
    WHEN r.status = 429 THEN 'rate_limited'
    WHEN r.status >= 500 THEN 'server_error'
    WHEN r.status >= 400 THEN 'client_error'
    ELSE 'ok'
  END AS outcome,
  (r.status IS NULL OR r.status >= 400) AS is_error,
  r.duration_ms,
  r.attempt,
  r.retry_after_s::double precision AS retry_after_s,
  r.bytes,
  r.error,
  r.run_id
FROM api_requests r;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_api_request IS 'Every request ucledger made to Uploadcare (and every webhook delivery it received), attempt by attempt; every call is a billed operation. Kept for the retention period, by month. Filter on requested_at for speed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.request_id IS 'The request attempt''s id; unique within a project and requested_at.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.requested_at IS 'When the attempt started.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.day IS 'The UTC date of requested_at.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.source IS 'Who made it: ucledger (to Uploadcare), uploadcare (webhook deliveries to ucledger), or an application''s name.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.api IS 'Which API: rest, upload, project (usage statistics) or webhook.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.method IS 'HTTP method.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.path IS 'URL path, without the query string.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.status IS 'HTTP status answered; null when no answer came (network error, timeout).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.outcome IS 'ok (1xx-3xx), client_error (4xx but 429), rate_limited (429), server_error (5xx) or no_answer.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.is_error IS 'True unless the status is below 400: the errors of an error rate.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.duration_ms IS 'Milliseconds until the answer (or the failure).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.attempt IS 'Attempt number of the same call: 1, then 2, 3, … for retries.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.retry_after_s IS 'Seconds Uploadcare asked to wait (Retry-After); null when it did not.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.bytes IS 'Bytes of the response body; null when none was read.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.error IS 'What went wrong, in one line, for failed attempts; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_api_request.run_id IS 'The sync run that made it (fct_sync_run.run_id), as text; null when none.';
--> statement-breakpoint
CREATE VIEW reporting.fct_sync_run AS
SELECT
  s.project_key,
  s.id AS run_id,
  s.stream,
  s.lane,
  s.started_at,
  s.finished_at,
  (s.started_at AT TIME ZONE 'UTC')::date AS day,
  extract(epoch FROM s.finished_at - s.started_at)::double precision AS duration_s,
  s.status,
  s.pages,
  s.seen AS items_seen,
  s.inserted AS items_inserted,
  s.changed AS items_changed,
  s.error
FROM sync_runs s;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_sync_run IS 'One row per sync run of one stream and lane of one project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.run_id IS 'The run''s id; unique within a project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.stream IS 'What was synced: files or usage.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.lane IS 'How: new (new files), webhooks (the webhook inbox), reconcile (full scan), daily (usage).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.started_at IS 'When the run started.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.finished_at IS 'When it finished; null while running.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.day IS 'The UTC date of started_at.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.duration_s IS 'Seconds from start to finish; null while running.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.status IS 'running, ok, failed, rate_limited (stopped by Uploadcare''s rate limit), partial, or skipped (nothing to do, e.g. no usage token).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.pages IS 'Pages fetched from Uploadcare.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.items_seen IS 'Items (files, usage days) read.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.items_inserted IS 'Items new to the ledger.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.items_changed IS 'Items the ledger already had that changed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_sync_run.error IS 'Why the run failed, in one line; null when it did not.';
--> statement-breakpoint
-- The analysts' role. Roles belong to the whole server while this migration runs
-- once per database, possibly in several databases at once: create the role only
-- when it is missing, and take a concurrent creator's success as ours. Its settings
-- (read-only transactions, a statement timeout, reporting first on the search path)
-- apply at login; members made by `ucledger analyst create-login` get their own copy.
-- A migrating user that may not create roles gets a warning, not a failed start-up.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    BEGIN
      CREATE ROLE ucledger_analyst NOLOGIN;
      ALTER ROLE ucledger_analyst SET default_transaction_read_only = on;
      ALTER ROLE ucledger_analyst SET statement_timeout = '120s';
      ALTER ROLE ucledger_analyst SET search_path = reporting;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE WARNING 'ucledger: cannot create role ucledger_analyst (%): ask an administrator to run CREATE ROLE ucledger_analyst NOLOGIN, then migrate again', SQLERRM;
    END;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ucledger_analyst;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ucledger_analyst;
    GRANT USAGE ON SCHEMA reporting TO ucledger_analyst;
    GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO ucledger_analyst;
    ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO ucledger_analyst;
  END IF;
END
$$;
--> statement-breakpoint
-- PostgreSQL before 15 let every role create objects in schema public; 15 and later
-- do not. Revoking again is harmless where it no longer applies.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON SCHEMA reporting FROM PUBLIC;
