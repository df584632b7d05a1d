CREATE TABLE "file_reference_state" (
	"project_key" text NOT NULL,
	"file_uuid" uuid NOT NULL,
	"referenced" boolean NOT NULL,
	"referenced_since" timestamp(6) with time zone,
	"unreferenced_since" timestamp(6) with time zone,
	CONSTRAINT "file_reference_state_pkey" PRIMARY KEY("project_key","file_uuid")
);
--> statement-breakpoint
CREATE TABLE "file_references" (
	"project_key" text NOT NULL,
	"source" text NOT NULL,
	"ref" text NOT NULL,
	"file_uuid" uuid NOT NULL,
	"value" text NOT NULL,
	"added_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "file_references_pkey" PRIMARY KEY("project_key","source","ref","file_uuid")
);
--> statement-breakpoint
CREATE TABLE "reference_snapshots" (
	"project_key" text NOT NULL,
	"id" uuid NOT NULL,
	"source" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"taken_at" timestamp(6) with time zone NOT NULL,
	"size" integer NOT NULL,
	"previous_size" integer NOT NULL,
	"added" integer NOT NULL,
	"removed" integer NOT NULL,
	"unresolved" integer NOT NULL,
	"unknown_files" integer NOT NULL,
	"forced" boolean DEFAULT false NOT NULL,
	"actor" text NOT NULL,
	"message" text,
	CONSTRAINT "reference_snapshots_pkey" PRIMARY KEY("project_key","id")
);
--> statement-breakpoint
CREATE TABLE "reference_sources" (
	"project_key" text NOT NULL,
	"source" text NOT NULL,
	"kind" text NOT NULL,
	"stale_after_hours" integer NOT NULL,
	"first_reported_at" timestamp(6) with time zone,
	"last_reported_at" timestamp(6) with time zone,
	"refs" integer DEFAULT 0 NOT NULL,
	"last_snapshot_id" uuid,
	"last_error" text,
	"created_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "reference_sources_pkey" PRIMARY KEY("project_key","source")
);
--> statement-breakpoint
CREATE TABLE "reference_staging" (
	"project_key" text NOT NULL,
	"upload_id" uuid NOT NULL,
	"ref" text NOT NULL,
	"file_uuid" uuid NOT NULL,
	"value" text NOT NULL,
	"staged_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "reference_staging_pkey" PRIMARY KEY("project_key","upload_id","file_uuid","ref")
);
--> statement-breakpoint
ALTER TABLE "reference_sources" ADD CONSTRAINT "reference_sources_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "file_reference_state_unreferenced_idx" ON "file_reference_state" USING btree ("project_key","unreferenced_since") WHERE NOT "file_reference_state"."referenced";--> statement-breakpoint
CREATE INDEX "file_references_file_idx" ON "file_references" USING btree ("project_key","file_uuid");--> statement-breakpoint
CREATE INDEX "reference_snapshots_source_idx" ON "reference_snapshots" USING btree ("project_key","source","taken_at","id");