-- Custom SQL migration file, put your code below! --
-- The audit trail is append-only: the database itself refuses to change or remove a row.
-- Tampering therefore needs a superuser who disables this trigger, and the hash chain
-- (checked by `ucledger audit verify`) shows where.
CREATE OR REPLACE FUNCTION file_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'file_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER file_events_append_only
  BEFORE UPDATE OR DELETE ON file_events
  FOR EACH ROW EXECUTE FUNCTION file_events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER file_events_no_truncate
  BEFORE TRUNCATE ON file_events
  FOR EACH STATEMENT EXECUTE FUNCTION file_events_refuse_change();
--> statement-breakpoint
-- Every request to or from Uploadcare. Partitioned by month so old months are dropped
-- whole after the retention period; the default partition catches rows for months
-- whose partition does not exist yet.
CREATE TABLE api_requests (
  project_key text NOT NULL,
  id uuid NOT NULL,
  requested_at timestamp(6) with time zone NOT NULL,
  source text NOT NULL,
  api text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  query text,
  status integer,
  duration_ms integer NOT NULL,
  attempt integer NOT NULL DEFAULT 1,
  retry_after_s numeric,
  bytes integer,
  error text,
  run_id text,
  CONSTRAINT api_requests_pkey PRIMARY KEY (project_key, requested_at, id)
) PARTITION BY RANGE (requested_at);
--> statement-breakpoint
CREATE TABLE api_requests_default PARTITION OF api_requests DEFAULT;
--> statement-breakpoint
CREATE INDEX api_requests_status_idx ON api_requests (project_key, status, requested_at);
