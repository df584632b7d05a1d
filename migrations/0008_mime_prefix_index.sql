DROP INDEX "files_mime_idx";--> statement-breakpoint
CREATE INDEX "files_mime_idx" ON "files" USING btree ("project_key","mime_type" text_pattern_ops,"datetime_uploaded","uuid");