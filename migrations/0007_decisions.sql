CREATE TABLE "plan_approvals" (
	"project_key" text NOT NULL,
	"plan_id" uuid NOT NULL,
	"approver" text NOT NULL,
	"reason" text NOT NULL,
	"approved_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "plan_approvals_pkey" PRIMARY KEY("project_key","plan_id","approver")
);
--> statement-breakpoint
CREATE TABLE "plan_items" (
	"project_key" text NOT NULL,
	"plan_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"file_uuid" uuid NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"size" bigint NOT NULL,
	"state" text NOT NULL,
	"datetime_uploaded" timestamp(6) with time zone NOT NULL,
	"mime_type" text NOT NULL,
	"original_filename" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"copy_url" text,
	"batch" integer,
	"sent_at" timestamp(6) with time zone,
	"finished_at" timestamp(6) with time zone,
	"updated_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "plan_items_pkey" PRIMARY KEY("project_key","plan_id","seq"),
	CONSTRAINT "plan_items_file_key" UNIQUE("project_key","plan_id","file_uuid")
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"project_key" text NOT NULL,
	"id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"policy_version" integer NOT NULL,
	"policy" jsonb NOT NULL,
	"action" text NOT NULL,
	"options" jsonb NOT NULL,
	"status" text NOT NULL,
	"note" text,
	"file_count" integer NOT NULL,
	"total_bytes" bigint NOT NULL,
	"excluded_count" integer NOT NULL,
	"required_approvals" integer NOT NULL,
	"proposed_by" text NOT NULL,
	"proposed_at" timestamp(6) with time zone NOT NULL,
	"expires_at" timestamp(6) with time zone NOT NULL,
	"approved_at" timestamp(6) with time zone,
	"applied_by" text,
	"apply_started_at" timestamp(6) with time zone,
	"finished_at" timestamp(6) with time zone,
	"halt_reason" text,
	"last_error" text,
	"cancelled_by" text,
	"updated_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "plans_pkey" PRIMARY KEY("project_key","id")
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"project_key" text NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"action" text NOT NULL,
	"conditions" jsonb NOT NULL,
	"allow_match_all" boolean DEFAULT false NOT NULL,
	"archive" jsonb,
	"version" integer NOT NULL,
	"created_at" timestamp(6) with time zone NOT NULL,
	"created_by" text NOT NULL,
	"updated_at" timestamp(6) with time zone NOT NULL,
	"updated_by" text NOT NULL,
	"deleted_at" timestamp(6) with time zone,
	CONSTRAINT "policies_pkey" PRIMARY KEY("project_key","id")
);
--> statement-breakpoint
ALTER TABLE "plan_approvals" ADD CONSTRAINT "plan_approvals_plan_fk" FOREIGN KEY ("project_key","plan_id") REFERENCES "public"."plans"("project_key","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plan_items" ADD CONSTRAINT "plan_items_plan_fk" FOREIGN KEY ("project_key","plan_id") REFERENCES "public"."plans"("project_key","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_policy_fk" FOREIGN KEY ("project_key","policy_id") REFERENCES "public"."policies"("project_key","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "plan_items_status_idx" ON "plan_items" USING btree ("project_key","plan_id","status","seq");--> statement-breakpoint
CREATE INDEX "plan_items_open_idx" ON "plan_items" USING btree ("project_key","plan_id","seq") WHERE "plan_items"."status" in ('pending', 'copying', 'copied', 'sending');--> statement-breakpoint
CREATE INDEX "plans_id_idx" ON "plans" USING btree ("id");--> statement-breakpoint
CREATE INDEX "plans_proposed_idx" ON "plans" USING btree ("project_key","proposed_at","id");--> statement-breakpoint
CREATE INDEX "plans_expiring_idx" ON "plans" USING btree ("project_key","expires_at") WHERE "plans"."status" = 'proposed';--> statement-breakpoint
CREATE UNIQUE INDEX "policies_live_name_idx" ON "policies" USING btree ("project_key","name") WHERE "policies"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "policies_id_idx" ON "policies" USING btree ("id");