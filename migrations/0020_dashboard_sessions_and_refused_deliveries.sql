CREATE TABLE "dashboard_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"token_id" uuid NOT NULL,
	"created_at" timestamp(6) with time zone NOT NULL,
	"expires_at" timestamp(6) with time zone NOT NULL,
	"revoked_at" timestamp(6) with time zone,
	"last_seen_at" timestamp(6) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refused_webhook_deliveries" (
	"project_key" text NOT NULL,
	"source" text NOT NULL,
	"minute" timestamp(6) with time zone NOT NULL,
	"reason" text NOT NULL,
	"count" integer NOT NULL,
	"last_at" timestamp(6) with time zone NOT NULL,
	CONSTRAINT "refused_webhook_deliveries_pkey" PRIMARY KEY("project_key","source","minute","reason")
);
--> statement-breakpoint
ALTER TABLE "dashboard_sessions" ADD CONSTRAINT "dashboard_sessions_token_id_api_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dashboard_sessions_token_idx" ON "dashboard_sessions" USING btree ("token_id");--> statement-breakpoint
CREATE INDEX "dashboard_sessions_expires_idx" ON "dashboard_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "refused_webhook_deliveries_minute_idx" ON "refused_webhook_deliveries" USING btree ("minute");