-- Custom SQL migration file, put your code below! --
-- GET /v1/api-logs?order=errors_first pages by (failed first, newest first, id):
-- this expression index gives that order within a project, so no page sorts the log.
-- The expression must stay exactly as src/db/queries/api-requests.ts writes it.
CREATE INDEX api_requests_errors_first_idx ON api_requests (project_key, ((status IS NULL OR status >= 400)), requested_at, id);
--> statement-breakpoint
-- Partial: failed and unanswered requests are a few percent of the log, and the
-- status filters (`status=5xx`, `429`, `none`) all imply this predicate, so they
-- read this small index in time order (status included for index-only counts).
CREATE INDEX api_requests_failed_idx ON api_requests (project_key, requested_at, id) INCLUDE (status)
  WHERE status IS NULL OR status >= 400;
