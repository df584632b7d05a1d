CREATE TABLE "api_log_batches" (
	"project_key" text NOT NULL,
	"body_sha256" text NOT NULL,
	"idempotency_key" text,
	"received_at" timestamp(6) with time zone NOT NULL,
	"result" jsonb NOT NULL,
	CONSTRAINT "api_log_batches_pkey" PRIMARY KEY("project_key","body_sha256")
);
--> statement-breakpoint
CREATE TABLE "file_quarantine" (
	"project_key" text NOT NULL,
	"raw_sha256" text NOT NULL,
	"file_uuid" uuid,
	"source" text NOT NULL,
	"disposition" text NOT NULL,
	"reason" text NOT NULL,
	"raw" text NOT NULL,
	"run_id" text,
	"first_seen_at" timestamp(6) with time zone NOT NULL,
	"last_seen_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "file_quarantine_pkey" PRIMARY KEY("project_key","raw_sha256")
);
--> statement-breakpoint
ALTER TABLE "webhook_inbox" ALTER COLUMN "body" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "observed_at" timestamp(6) with time zone;--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "last_stored_at" timestamp(6) with time zone;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "quarantined" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_inbox" ADD COLUMN "raw_body" text;--> statement-breakpoint
CREATE UNIQUE INDEX "api_log_batches_key_idx" ON "api_log_batches" USING btree ("project_key","idempotency_key");--> statement-breakpoint
CREATE INDEX "file_quarantine_recent_idx" ON "file_quarantine" USING btree ("project_key","last_seen_at");--> statement-breakpoint
CREATE INDEX "file_quarantine_file_idx" ON "file_quarantine" USING btree ("project_key","file_uuid");--> statement-breakpoint
-- Rows synced before observation order existed were observed when last written.
UPDATE "files" SET "observed_at" = "updated_at" WHERE "observed_at" IS NULL;--> statement-breakpoint
-- The store time the ledger saw: the live value, or for a removed file the value
-- its removal event recorded before Uploadcare cleared it.
UPDATE "files" f SET "last_stored_at" = coalesce(f."datetime_stored", (
  SELECT (e."before"->>'datetime_stored')::timestamptz FROM "file_events" e
  WHERE e."project_key" = f."project_key" AND e."file_uuid" = f."uuid" AND e."kind" = 'removed'
  ORDER BY e."seq" DESC LIMIT 1));--> statement-breakpoint
UPDATE "webhook_inbox" SET "raw_body" = "body"::text WHERE "raw_body" IS NULL;
