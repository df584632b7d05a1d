CREATE TABLE "file_versions" (
	"project_key" text NOT NULL,
	"copy_uuid" uuid NOT NULL,
	"original_uuid" uuid NOT NULL,
	"plan_id" uuid NOT NULL,
	"operations" text NOT NULL,
	"original_size" bigint NOT NULL,
	"copy_size" bigint NOT NULL,
	"created_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "file_versions_pkey" PRIMARY KEY("project_key","copy_uuid")
);
--> statement-breakpoint
ALTER TABLE "plan_items" ADD COLUMN "copy_uuid" uuid;--> statement-breakpoint
ALTER TABLE "plan_items" ADD COLUMN "copy_size" bigint;--> statement-breakpoint
ALTER TABLE "policies" ADD COLUMN "tag" jsonb;--> statement-breakpoint
ALTER TABLE "file_versions" ADD CONSTRAINT "file_versions_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "file_versions_original_idx" ON "file_versions" USING btree ("project_key","original_uuid");