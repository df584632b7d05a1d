-- Custom SQL migration file, put your code below! --
-- Plan items for analysts: which files each store/delete/archive plan covered and how each ended.
-- A new view, not an edit of a published one (the reporting surface only grows).
CREATE VIEW reporting.fct_plan_item AS
SELECT i.project_key, i.plan_id, i.seq AS item_seq, i.file_uuid, p.action, p.status AS plan_status,
       i.status AS item_status, i.reason, i.size AS size_bytes, i.state AS file_state_at_plan, i.mime_type,
       i.batch, p.proposed_by, p.proposed_at, p.approved_at, p.applied_by, i.sent_at, i.finished_at
FROM plan_items i JOIN plans p ON p.project_key = i.project_key AND p.id = i.plan_id;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_plan_item IS 'One row per file of each store, delete or archive plan: what it was at proposal and how its action ended.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.plan_id IS 'The plan (one policy applied to a frozen list of files).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.item_seq IS 'The item''s position in its plan.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.file_uuid IS 'The file the item acts on (dim_file).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.action IS 'What the plan does: store, delete or archive.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.plan_status IS 'The plan''s status now: proposed, approved, applying, applied, halted, expired or cancelled.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.item_status IS 'The item''s status: excluded (protection left it out), pending, copying, copied, sending, done, skipped or failed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.reason IS 'Why the item was excluded, skipped or failed (Uploadcare''s problems text for failures).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.size_bytes IS 'The file''s size in bytes when the plan was proposed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.file_state_at_plan IS 'The file''s state when the plan was proposed: stored, unstored, removed or missing.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.mime_type IS 'The file''s MIME type when the plan was proposed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.batch IS 'The batch of at most 100 files the item was sent in; null until sent.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.proposed_by IS 'Who proposed the plan (token:<name> or cli:<user>).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.proposed_at IS 'When the plan was proposed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.approved_at IS 'When the plan got its last required approval.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.applied_by IS 'Who applied the plan.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.sent_at IS 'When the item''s request was sent to Uploadcare.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item.finished_at IS 'When the item reached done, skipped or failed.';
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    GRANT SELECT ON reporting.fct_plan_item TO ucledger_analyst;
  END IF;
END
$$;
