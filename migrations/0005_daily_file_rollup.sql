CREATE TABLE "daily_file_rollup" (
	"project_key" text NOT NULL,
	"day" date NOT NULL,
	"uploads" integer NOT NULL,
	"bytes_uploaded" bigint NOT NULL,
	"stored" integer NOT NULL,
	"bytes_stored" bigint NOT NULL,
	"removed" integer NOT NULL,
	"bytes_removed" bigint NOT NULL,
	"refreshed_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "daily_file_rollup_pkey" PRIMARY KEY("project_key","day")
);
--> statement-breakpoint
CREATE TABLE "daily_file_rollup_state" (
	"project_key" text PRIMARY KEY NOT NULL,
	"last_event_seq" bigint NOT NULL,
	"refreshed_at" timestamp(6) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "daily_file_rollup" ADD CONSTRAINT "daily_file_rollup_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_file_rollup_state" ADD CONSTRAINT "daily_file_rollup_state_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;