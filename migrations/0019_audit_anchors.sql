CREATE TABLE "audit_anchors" (
	"project_key" text NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"taken_at" timestamp(6) with time zone NOT NULL,
	"key_id" text NOT NULL,
	"signature" text NOT NULL,
	CONSTRAINT "audit_anchors_pkey" PRIMARY KEY("project_key","seq","key_id")
);
--> statement-breakpoint
CREATE TABLE "audit_verify_marks" (
	"project_key" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"verified_at" timestamp(6) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_anchors" ADD CONSTRAINT "audit_anchors_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_verify_marks" ADD CONSTRAINT "audit_verify_marks_project_key_projects_project_key_fk" FOREIGN KEY ("project_key") REFERENCES "public"."projects"("project_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Anchors are append-only like the audit trail: the database refuses to change or remove one.
CREATE OR REPLACE FUNCTION audit_anchors_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_anchors is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_anchors_append_only
  BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION audit_anchors_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_anchors_no_truncate
  BEFORE TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION audit_anchors_refuse_change();
