-- Custom SQL migration file, put your code below! --
-- GET /v1/stats/summary counts and sums every file of a project by state and
-- MIME type. Covering those columns lets it read this index (about 76 MB per
-- million files) instead of the table (about 1 GB): 0.43 s → 0.07 s for 100,000
-- files in a 1,000,000-file table. Hand-written because drizzle cannot declare
-- INCLUDE; it is not in the drizzle schema, and drizzle-kit leaves it alone.
CREATE INDEX files_stats_idx ON files (project_key, mime_type)
  INCLUDE (size, datetime_uploaded, datetime_stored, datetime_removed, missing_since);
