/** One attempt of one request to Uploadcare, as the API log keeps it. */
export interface RequestRecord {
  projectKey: string;
  requestedAt: Date;
  /** `ucledger` for the app's own calls. */
  source: string;
  /** `rest` (REST API v0.7) or `project` (Project API usage). */
  api: "rest" | "project";
  method: string;
  path: string;
  query: string | null;
  /** Null when no answer came (network error, timeout). */
  status: number | null;
  durationMs: number;
  attempt: number;
  retryAfterS: number | null;
  bytes: number | null;
  error: string | null;
  runId: string | null;
}

/** Where attempts are recorded; the database-backed one lives in `sync/api-log.ts`. */
export type RecordRequest = (record: RequestRecord) => Promise<void>;
