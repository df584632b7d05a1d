import { randomUUID } from "node:crypto";
import type { Db } from "../db/client.ts";
import { apiRequests } from "../db/partitioned/api-requests.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import type { RecordRequest, RequestRecord } from "./uploadcare/request-record.ts";

/**
 * Records each attempt of each Uploadcare request in `api_requests`, outside any
 * page transaction: a request whose page later rolls back still happened, was
 * still billed, and still belongs in the log.
 */
export function createRequestRecorder(db: Db, observe?: (record: RequestRecord) => void): RecordRequest {
  return async (record) => {
    observe?.(record);
    await db.insert(apiRequests).values({
      projectKey: record.projectKey,
      id: randomUUID(),
      requestedAt: dateToTimestamp(record.requestedAt),
      source: record.source,
      api: record.api,
      method: record.method,
      path: record.path,
      query: record.query,
      status: record.status,
      durationMs: record.durationMs,
      attempt: record.attempt,
      retryAfterS: record.retryAfterS,
      bytes: record.bytes,
      error: record.error,
      runId: record.runId,
    });
  };
}
