-- Custom SQL migration file, put your code below! ---- fct_plan_item_v2: every fct_plan_item column, same order and meaning, then what a
-- version plan made of each file: the copy, its size and the bytes saved when the
-- original was deleted. fct_plan_item stays as published (the surface only grows).
CREATE VIEW reporting.fct_plan_item_v2 AS
SELECT v.*, i.copy_uuid, i.copy_size AS copy_size_bytes,
       CASE WHEN v.action = 'version' AND v.item_status = 'done' AND (p.policy -> 'versionSpec' ->> 'deleteOriginal') = 'true' AND i.copy_size IS NOT NULL
            THEN v.size_bytes - i.copy_size END AS bytes_saved
FROM reporting.fct_plan_item v
JOIN plan_items i ON i.project_key = v.project_key AND i.plan_id = v.plan_id AND i.seq = v.item_seq
JOIN plans p ON p.project_key = v.project_key AND p.id = v.plan_id;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_plan_item_v2 IS 'fct_plan_item with what version plans made: every fct_plan_item column, same order and meaning (action may also be tag or version), then copy_uuid, copy_size_bytes and bytes_saved.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.project_key IS 'The project (dim_project).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.plan_id IS 'The plan (one policy applied to a frozen list of files).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.item_seq IS 'The item''s position in its plan.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.file_uuid IS 'The file the item acts on (dim_file); for a version plan, the original.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.action IS 'What the plan does: store, delete, archive, tag (set or remove metadata keys) or version (a local copy, optionally with CDN operations, optionally deleting the original).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.plan_status IS 'The plan''s status now: proposed, approved, applying, applied, halted, expired or cancelled.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.item_status IS 'The item''s status: excluded (protection left it out), pending, copying, copied, sending, done, skipped or failed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.reason IS 'Why the item was excluded, skipped or failed (Uploadcare''s problems text for failures).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.size_bytes IS 'The file''s size in bytes when the plan was proposed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.file_state_at_plan IS 'The file''s state when the plan was proposed: stored, unstored, removed or missing.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.mime_type IS 'The file''s MIME type when the plan was proposed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.batch IS 'The batch of at most 100 files the item was sent in; null until sent.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.proposed_by IS 'Who proposed the plan (token:<name> or cli:<user>).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.proposed_at IS 'When the plan was proposed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.approved_at IS 'When the plan got its last required approval.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.applied_by IS 'Who applied the plan.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.sent_at IS 'When the item''s request was sent to Uploadcare.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.finished_at IS 'When the item reached done, skipped or failed.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.copy_uuid IS 'Version plans: the copy Uploadcare made of the file (file_versions); null for other actions and before the copy.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.copy_size_bytes IS 'Version plans: the copy''s size in bytes once Uploadcare confirmed it.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_plan_item_v2.bytes_saved IS 'Version plans that delete originals: size_bytes minus copy_size_bytes once the original is deleted (negative when the copy is larger); null otherwise.';
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    GRANT SELECT ON reporting.fct_plan_item_v2 TO ucledger_analyst;
  END IF;
END
$$;
