CREATE TABLE "projects" (
	"project_key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"is_demo" boolean DEFAULT false NOT NULL,
	"added_at" timestamp(6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "files" (
	"project_key" text NOT NULL,
	"uuid" uuid NOT NULL,
	"datetime_uploaded" timestamp(6) with time zone NOT NULL,
	"datetime_stored" timestamp(6) with time zone,
	"datetime_removed" timestamp(6) with time zone,
	"size" bigint NOT NULL,
	"mime_type" text NOT NULL,
	"is_image" boolean,
	"is_ready" boolean,
	"original_filename" text NOT NULL,
	"original_file_url" text,
	"metadata" jsonb NOT NULL,
	"appdata" jsonb,
	"data" jsonb NOT NULL,
	"missing_since" timestamp(6) with time zone,
	"missed_scans" integer DEFAULT 0 NOT NULL,
	"first_seen_at" timestamp(6) with time zone NOT NULL,
	"updated_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "files_pkey" PRIMARY KEY("project_key","uuid")
);
--> statement-breakpoint
CREATE TABLE "audit_chain_heads" (
	"project_key" text PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	"last_hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "file_events" (
	"project_key" text NOT NULL,
	"seq" bigint NOT NULL,
	"file_uuid" uuid,
	"kind" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"occurred_at" timestamp(6) with time zone,
	"observed_at" timestamp(6) with time zone NOT NULL,
	"source" text NOT NULL,
	"run_id" text,
	"plan_id" text,
	"actor" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "file_events_pkey" PRIMARY KEY("project_key","seq")
);
--> statement-breakpoint
CREATE TABLE "reconcile_seen" (
	"project_key" text NOT NULL,
	"run_id" uuid NOT NULL,
	"uuid" uuid NOT NULL,
	CONSTRAINT "reconcile_seen_pkey" PRIMARY KEY("project_key","run_id","uuid")
);
--> statement-breakpoint
CREATE TABLE "sync_checkpoints" (
	"project_key" text NOT NULL,
	"stream" text NOT NULL,
	"lane" text NOT NULL,
	"cursor" jsonb NOT NULL,
	"updated_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "sync_checkpoints_pkey" PRIMARY KEY("project_key","stream","lane")
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"project_key" text NOT NULL,
	"id" uuid NOT NULL,
	"stream" text NOT NULL,
	"lane" text NOT NULL,
	"started_at" timestamp(6) with time zone NOT NULL,
	"finished_at" timestamp(6) with time zone,
	"status" text NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"seen" integer DEFAULT 0 NOT NULL,
	"inserted" integer DEFAULT 0 NOT NULL,
	"changed" integer DEFAULT 0 NOT NULL,
	"error" text,
	CONSTRAINT "sync_runs_pkey" PRIMARY KEY("project_key","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_inbox" (
	"project_key" text NOT NULL,
	"body_sha256" text NOT NULL,
	"received_at" timestamp(6) with time zone NOT NULL,
	"event" text NOT NULL,
	"file_uuid" uuid,
	"body" jsonb NOT NULL,
	"applied_at" timestamp(6) with time zone,
	"outcome" text,
	CONSTRAINT "webhook_inbox_pkey" PRIMARY KEY("project_key","body_sha256")
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"project_key" text NOT NULL,
	"date" date NOT NULL,
	"metric" text NOT NULL,
	"value" bigint NOT NULL,
	"unit" text NOT NULL,
	"fetched_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "usage_daily_pkey" PRIMARY KEY("project_key","date","metric")
);
--> statement-breakpoint
ALTER TABLE "files" ADD CONSTRAINT "files_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_chain_heads" ADD CONSTRAINT "audit_chain_heads_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_events" ADD CONSTRAINT "file_events_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_checkpoints" ADD CONSTRAINT "sync_checkpoints_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_inbox" ADD CONSTRAINT "webhook_inbox_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "files_uploaded_idx" ON "files" USING btree ("project_key","datetime_uploaded","uuid");--> statement-breakpoint
CREATE INDEX "files_size_idx" ON "files" USING btree ("project_key","size","uuid");--> statement-breakpoint
CREATE INDEX "files_mime_idx" ON "files" USING btree ("project_key","mime_type");--> statement-breakpoint
CREATE INDEX "files_metadata_gin" ON "files" USING gin ("metadata" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "file_events_file_idx" ON "file_events" USING btree ("project_key","file_uuid","seq");--> statement-breakpoint
CREATE INDEX "file_events_observed_idx" ON "file_events" USING btree ("project_key","observed_at");--> statement-breakpoint
CREATE INDEX "sync_runs_started_idx" ON "sync_runs" USING btree ("project_key","stream","started_at");--> statement-breakpoint
CREATE INDEX "webhook_inbox_pending_idx" ON "webhook_inbox" USING btree ("project_key","received_at");