-- Custom SQL migration file, put your code below! --
-- GET /v1/files?filename=… is a case-insensitive substring search (ILIKE '%…%'),
-- which only a trigram index serves: without one it scans the project (about
-- 1.5 s per million files). pg_trgm ships with PostgreSQL and is a trusted
-- extension (a database owner may create it); PGlite does not load it, and a
-- role without the right may not create it: then this step does nothing and
-- filename search keeps scanning. Both blocks are no-ops when run again.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm unavailable (%): filename search will scan', SQLERRM;
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE INDEX IF NOT EXISTS files_filename_trgm_idx ON files USING gin (original_filename gin_trgm_ops);
  END IF;
END
$$;
