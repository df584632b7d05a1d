-- Custom SQL migration file, put your code below! --
-- References for analysts. Published views never gain columns (docs/analysts.md), so
-- the reference status ships as dim_file_v2: every column of dim_file, in the same
-- order and meaning, then is_referenced and unreferenced_since. The status follows
-- src/db/queries/reference-status.ts exactly (test/references/reporting.test.ts
-- compares the two), judged at the moment of the query (now()).
CREATE VIEW reporting.dim_file_v2 AS
SELECT d.*, st.is_referenced, st.unreferenced_since
FROM reporting.dim_file d
LEFT JOIN LATERAL (
  SELECT
    CASE
      WHEN s.referenced THEN true
      WHEN greatest(coalesce(s.unreferenced_since, d.uploaded_at), p.tracked_since) > p.stale_cutoff THEN true
      ELSE false
    END AS is_referenced,
    CASE
      WHEN s.referenced THEN NULL
      WHEN greatest(coalesce(s.unreferenced_since, d.uploaded_at), p.tracked_since) > p.stale_cutoff THEN NULL
      ELSE greatest(coalesce(s.unreferenced_since, d.uploaded_at), p.tracked_since)
    END::timestamp(6) with time zone AS unreferenced_since
  FROM (
    SELECT max(r.first_reported_at) AS tracked_since,
      min(coalesce(r.last_reported_at, '-infinity'::timestamptz)) FILTER (
        WHERE r.last_reported_at IS NULL OR r.last_reported_at < now() - r.stale_after_hours * interval '1 hour') AS stale_cutoff
    FROM reference_sources r WHERE r.project_key = d.project_key
    HAVING count(*) > 0
  ) p
  LEFT JOIN file_reference_state s ON s.project_key = d.project_key AND s.file_uuid = d.file_uuid
) st ON true;
--> statement-breakpoint
COMMENT ON VIEW reporting.dim_file_v2 IS 'dim_file with each file''s reference status (docs/references.md): every dim_file column, same order and meaning, then is_referenced and unreferenced_since. Judged at the moment of the query.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.file_uuid IS 'Uploadcare''s file UUID; unique within a project.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.original_filename IS 'The file name as uploaded.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.state IS 'stored (kept by Uploadcare), unstored (temporary: Uploadcare removes it 24 hours after upload unless stored), removed (deleted), or missing (no longer listed by Uploadcare although no removal was seen).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.uploaded_at IS 'When the file was uploaded (microseconds, UTC).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.upload_day IS 'The UTC date of uploaded_at; joins fct_daily_files.day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.stored_at IS 'When the file was last stored; null when never stored and also after removal (Uploadcare clears it on delete).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.removed_at IS 'When the file was deleted; null while it exists.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.missing_since IS 'When the ledger found the file gone from Uploadcare''s listings without a removal; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.expires_at IS 'For unstored files, when Uploadcare will remove them (uploaded_at + 24 hours) unless stored first; null for all other states.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.age_days IS 'Whole days since upload, as of the query.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.size_bytes IS 'Size in bytes.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.size_mb IS 'Size in megabytes (1 MB = 1,000,000 bytes), rounded to 3 decimals.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.mime_type IS 'The full MIME type as Uploadcare detected it, e.g. image/jpeg.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.mime_main_type IS 'The part of mime_type before the slash: image, video, application, text, audio, …';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.mime_subtype IS 'The part of mime_type after the slash, e.g. jpeg or pdf; null when there is none.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.is_image IS 'Uploadcare''s verdict: an image it can transform; null while unknown.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.is_ready IS 'Whether Uploadcare has finished processing the upload.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.image_width IS 'Width in pixels, for images (content_info.image.width); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.image_height IS 'Height in pixels, for images (content_info.image.height); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.image_format IS 'Image format as Uploadcare reports it (JPEG, PNG, WEBP, GIF, HEIF, …); null for non-images.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.video_duration_s IS 'Duration in seconds, for videos (content_info.video.duration); null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.is_infected IS 'The ClamAV add-on''s verdict (appdata uc_clamav_virus_scan): true infected, false clean, null when the file was never scanned.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.infected_with IS 'The malware ClamAV named, for infected files; null otherwise.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.metadata IS 'The file''s Uploadcare metadata: a JSON object of string keys and values ({} when none). Read a key with metadata->>''key''.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.original_file_url IS 'The CDN URL of the original; null once removed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.first_seen_at IS 'When the ledger first saw the file.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.last_changed_at IS 'When the ledger last recorded a change to the file.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.is_referenced IS 'True when a reference source holds the file in its current set, or when a stale source (not reported within its interval) has not reported since the file lost its last reference; false when nothing references it; null while the project has no reference source.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.dim_file_v2.unreferenced_since IS 'When is_referenced is false: since when nothing references the file (when its last reference went away, or its upload, but never before every source of the project had first reported). Null otherwise.';
--> statement-breakpoint
CREATE VIEW reporting.fct_reference_snapshot AS
SELECT n.project_key, n.source, n.id AS snapshot_id, n.taken_at, n.kind, n.status, n.size AS refs, n.previous_size AS previous_refs,
       n.added, n.removed, n.unresolved, n.unknown_files, n.forced, n.actor
FROM reference_snapshots n;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_reference_snapshot IS 'One row per write to a reference source: a whole set replaced (push or pull), or one reference added or removed; refused replacements included.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.source IS 'The reference source''s name, e.g. app-db or cms.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.snapshot_id IS 'The snapshot''s id.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.taken_at IS 'When the write was applied (or refused).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.kind IS 'replace (a whole set), add or remove (one reference).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.status IS 'applied, or refused (the set would have dropped more than the allowed share of the source''s references; nothing changed).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.refs IS 'References in the source''s set after the write (for a refused one: in the set sent).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.previous_refs IS 'References in the source''s set before the write.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.added IS 'References the write added.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.removed IS 'References the write removed (or would have, when refused).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.unresolved IS 'Values that named no file (not a UUID, not a CDN URL): counted, not kept.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.unknown_files IS 'References to UUIDs the ledger has no file for (yet).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.forced IS 'True when a replacement was applied past the drop limit with force.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_reference_snapshot.actor IS 'Who wrote it: token:<name>, cli:<user>, or ucledger:pull:<source> for scheduled pulls.';
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    GRANT SELECT ON reporting.dim_file_v2, reporting.fct_reference_snapshot TO ucledger_analyst;
  END IF;
END
$$;
