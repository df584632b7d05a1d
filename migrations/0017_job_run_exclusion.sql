-- Custom SQL migration file, put your code below! --
-- One run at a time: whatever starts a run (a scheduled slot, the API, the CLI)
-- first inserts a `running` claim, and this index lets only one `running` claim
-- exist per project and run group. The sync streams are one group each, whatever
-- the lane (`files.new`, `files.reconcile`, `files.manual` are all `files`): the
-- lanes write the same rows, and two reconciliations at once would each count a
-- scan the file missed. Every other job is a group of its own.
-- Custom SQL, not drizzle's schema: drizzle-kit cannot express an index on a function.
CREATE OR REPLACE FUNCTION job_run_group(job text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN split_part(job, '.', 1) IN ('files', 'usage') THEN split_part(job, '.', 1) ELSE job END
$$;
--> statement-breakpoint
-- Claims from before this index may overlap (an expired run and the slot started
-- beside it): keep the newest lease of each group and end the others, which fences
-- their holders out, rather than fail the migration.
UPDATE job_claims c SET status = 'failed', finished_at = now(),
  error = 'ended by migration 0017: a newer run of the same group was running for the project'
WHERE c.status = 'running' AND EXISTS (
  SELECT 1 FROM job_claims o
  WHERE o.project_key = c.project_key AND o.status = 'running'
    AND job_run_group(o.job) = job_run_group(c.job)
    AND (o.lease_until, o.fencing_token) > (c.lease_until, c.fencing_token));
--> statement-breakpoint
CREATE UNIQUE INDEX job_claims_one_running_idx ON job_claims (project_key, job_run_group(job)) WHERE status = 'running';
