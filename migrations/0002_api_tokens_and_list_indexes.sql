CREATE TABLE "api_access_log" (
	"id" uuid PRIMARY KEY NOT NULL,
	"requested_at" timestamp(6) with time zone NOT NULL,
	"request_id" text NOT NULL,
	"token_name" text,
	"method" text NOT NULL,
	"route" text,
	"status" integer NOT NULL,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp(6) with time zone NOT NULL,
	"created_by" text NOT NULL,
	"revoked_at" timestamp(6) with time zone
);
--> statement-breakpoint
DROP INDEX "files_mime_idx";--> statement-breakpoint
DROP INDEX "file_events_observed_idx";--> statement-breakpoint
CREATE INDEX "api_access_log_time_idx" ON "api_access_log" USING btree ("requested_at","id");--> statement-breakpoint
CREATE INDEX "api_access_log_token_idx" ON "api_access_log" USING btree ("token_name","requested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_idx" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_live_name_idx" ON "api_tokens" USING btree ("name") WHERE "api_tokens"."revoked_at" IS NULL;--> statement-breakpoint
CREATE INDEX "files_removed_idx" ON "files" USING btree ("project_key","datetime_uploaded","uuid") WHERE "files"."datetime_removed" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "files_missing_idx" ON "files" USING btree ("project_key","datetime_uploaded","uuid") WHERE "files"."missing_since" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "files_unstored_idx" ON "files" USING btree ("project_key","datetime_uploaded","uuid") WHERE "files"."datetime_stored" IS NULL AND "files"."datetime_removed" IS NULL;--> statement-breakpoint
CREATE INDEX "files_mime_idx" ON "files" USING btree ("project_key","mime_type","datetime_uploaded","uuid");--> statement-breakpoint
CREATE INDEX "file_events_observed_idx" ON "file_events" USING btree ("project_key","observed_at","seq");