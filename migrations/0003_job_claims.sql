CREATE SEQUENCE "public"."job_fencing_tokens" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "job_claims" (
	"project_key" text NOT NULL,
	"job" text NOT NULL,
	"slot" timestamp(6) with time zone NOT NULL,
	"fencing_token" bigint NOT NULL,
	"holder" text NOT NULL,
	"status" text NOT NULL,
	"claimed_at" timestamp(6) with time zone NOT NULL,
	"lease_until" timestamp(6) with time zone NOT NULL,
	"finished_at" timestamp(6) with time zone,
	"attempts" integer DEFAULT 1 NOT NULL,
	"error" text,
	CONSTRAINT "job_claims_pkey" PRIMARY KEY("project_key","job","slot")
);
--> statement-breakpoint
CREATE INDEX "job_claims_running_idx" ON "job_claims" USING btree ("status","lease_until");