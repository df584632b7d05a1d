CREATE TABLE "report_charts" (
	"project_key" text NOT NULL,
	"report_id" uuid NOT NULL,
	"name" text NOT NULL,
	"title" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"png" "bytea" NOT NULL,
	CONSTRAINT "report_charts_pkey" PRIMARY KEY("project_key","report_id","name")
);
--> statement-breakpoint
CREATE TABLE "report_deliveries" (
	"project_key" text NOT NULL,
	"report_id" uuid NOT NULL,
	"recipient" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp(6) with time zone,
	"claimed_at" timestamp(6) with time zone,
	"claim_token" uuid,
	"smtp_response" text,
	"last_error" text,
	"message_id" text,
	"created_at" timestamp(6) with time zone NOT NULL,
	"updated_at" timestamp(6) with time zone NOT NULL,
	"sent_at" timestamp(6) with time zone,
	CONSTRAINT "report_deliveries_pkey" PRIMARY KEY("project_key","report_id","recipient")
);
--> statement-breakpoint
CREATE TABLE "report_delivery_attempts" (
	"project_key" text NOT NULL,
	"report_id" uuid NOT NULL,
	"recipient" text NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" timestamp(6) with time zone NOT NULL,
	"finished_at" timestamp(6) with time zone,
	"outcome" text NOT NULL,
	"smtp_response" text,
	"error" text,
	CONSTRAINT "report_delivery_attempts_pkey" PRIMARY KEY("project_key","report_id","recipient","attempt")
);
--> statement-breakpoint
CREATE TABLE "reports" (
	"project_key" text NOT NULL,
	"kind" text NOT NULL,
	"period_start" timestamp(6) with time zone NOT NULL,
	"period_end" timestamp(6) with time zone NOT NULL,
	"id" uuid NOT NULL,
	"label" text NOT NULL,
	"timezone" text NOT NULL,
	"content" jsonb NOT NULL,
	"html" text NOT NULL,
	"text" text NOT NULL,
	"csv" text NOT NULL,
	"created_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "reports_pkey" PRIMARY KEY("project_key","kind","period_start"),
	CONSTRAINT "reports_project_id_key" UNIQUE("project_key","id")
);
--> statement-breakpoint
ALTER TABLE "report_charts" ADD CONSTRAINT "report_charts_report_fk" FOREIGN KEY ("project_key","report_id") REFERENCES "public"."reports"("project_key","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "report_deliveries" ADD CONSTRAINT "report_deliveries_report_fk" FOREIGN KEY ("project_key","report_id") REFERENCES "public"."reports"("project_key","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reports" ADD CONSTRAINT "reports_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "report_deliveries_due_idx" ON "report_deliveries" USING btree ("project_key","next_attempt_at") WHERE "report_deliveries"."status" in ('queued', 'failed');--> statement-breakpoint
CREATE INDEX "report_delivery_attempts_time_idx" ON "report_delivery_attempts" USING btree ("project_key","started_at");--> statement-breakpoint
CREATE INDEX "reports_id_idx" ON "reports" USING btree ("id");