import type { Db } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import { createRequestRecorder } from "../api-log.ts";
import { UploadcareClient } from "./client.ts";
import type { RequestRecord } from "./request-record.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy.ts";
import { UploadcareTransport, type UploadcareProject } from "./transport.ts";

/** A client for one project whose every request is recorded in the ledger's API log. */
export function createUploadcareClient(deps: {
  db: Db;
  logger: Logger;
  project: UploadcareProject;
  policy?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  runId?: string | null;
  pageLimit?: number;
  /** Sees every attempt as it is recorded (metrics). */
  onRequest?: (record: RequestRecord) => void;
}): UploadcareClient {
  return new UploadcareClient(
    new UploadcareTransport({
      project: deps.project,
      record: createRequestRecorder(deps.db, deps.onRequest),
      policy: { ...DEFAULT_RETRY_POLICY, ...deps.policy },
      logger: deps.logger.child({ module: "uploadcare", project: deps.project.publicKey }),
      sleep: deps.sleep,
      runId: deps.runId ?? null,
    }),
    { pageLimit: deps.pageLimit },
  );
}
