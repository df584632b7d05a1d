import {
  copyFileToRemoteStorage,
  createWebhook,
  deleteFiles,
  listOfWebhooks,
  storeFiles,
  updateWebhook,
  type Webhook,
} from "@uploadcare/rest-client";
import { UpstreamError } from "../../errors.ts";
import { UploadcareFile, FilesPage, describeZodError } from "./file-object.ts";
import type { UploadcareTransport } from "./transport.ts";

/** Uploadcare's page size limit for `GET /files/`. */
export const PAGE_LIMIT = 1000;
/** Uploadcare's limit of UUIDs per batch store or delete. */
export const BATCH_UUIDS_MAX = 100;

/** Where the next page starts, exactly as Uploadcare's `next` link says (`from` raw, with microseconds). */
export interface ListCursor {
  from?: string;
  offset?: number;
}

export interface ListPage {
  /**
   * The page's file objects as sent, not yet validated: each is admitted on its
   * own (src/sync/files/admit.ts), so one bad file never fails the page.
   */
  items: unknown[];
  /** When the request that answered began: every item was observed no earlier. */
  observedAt: Date;
  /** Null on the last page. */
  next: ListCursor | null;
  totals: { stored?: number; unstored?: number; removed?: number } | undefined;
}

export interface ListOptions extends ListCursor {
  removed?: boolean;
  stored?: boolean;
  limit?: number;
  /** Newest first (`-datetime_uploaded`): the backfill's probe for a list's last upload. */
  newestFirst?: boolean;
  /** Told of each 429 before its retry, so concurrent pagers can slow down together. */
  onThrottled?: () => void;
}

export interface BatchResult {
  /** Uuids Uploadcare reports done, with the file as it answered. */
  done: Map<string, Record<string, unknown>>;
  /** Uuid → Uploadcare's reason, such as "Missing in the project". */
  problems: Record<string, string>;
}

/** Every Uploadcare call ucledger makes, each through the recording transport. */
export class UploadcareClient {
  /** Files per list page: Uploadcare's maximum unless a test or benchmark asks for fewer. */
  readonly pageLimit: number;

  constructor(
    readonly transport: UploadcareTransport,
    options: { pageLimit?: number } = {},
  ) {
    this.pageLimit = options.pageLimit ?? PAGE_LIMIT;
  }

  /** The same client whose requests carry a run's id in the API log. */
  forRun(runId: string): UploadcareClient {
    return new UploadcareClient(this.transport.withRunId(runId), { pageLimit: this.pageLimit });
  }

  /**
   * One page of files in upload order, with appdata. A raw signed request: the
   * SDK's `listOfFiles` cannot ask for `include=appdata` and drops `offset`.
   */
  async listFiles(options: ListOptions): Promise<ListPage> {
    const { data, requestedAt } = await this.transport.requestJson(
      {
        method: "GET",
        path: "/files/",
        query: {
          ordering: options.newestFirst ? "-datetime_uploaded" : "datetime_uploaded",
          limit: String(options.limit ?? this.pageLimit),
          from: options.from,
          offset: options.offset ? String(options.offset) : undefined,
          removed: options.removed === undefined ? undefined : String(options.removed),
          stored: options.stored === undefined ? undefined : String(options.stored),
          include: "appdata",
        },
        onThrottled: options.onThrottled,
      },
      parseFilesPage,
    );
    return { ...data, observedAt: requestedAt };
  }

  /**
   * One file with appdata, exactly as Uploadcare sends it. Raw rather than the
   * SDK's `fileInfo`, which camelizes keys: the ledger keeps the object as sent.
   */
  async fileInfo(uuid: string): Promise<UploadcareFile> {
    const { data } = await this.transport.requestJson(
      { method: "GET", path: `/files/${encodeURIComponent(uuid)}/`, query: { include: "appdata" } },
      (json) => {
        const parsed = UploadcareFile.safeParse(json);
        if (!parsed.success) throw new Error(describeZodError(parsed.error));
        return parsed.data;
      },
    );
    return data;
  }

  /**
   * One file with appdata as sent, not yet validated, and when the read began:
   * the sync admits it like a list item. Null when Uploadcare does not know it (404).
   */
  async fileSnapshot(uuid: string): Promise<{ item: unknown; observedAt: Date } | null> {
    try {
      const { data, requestedAt } = await this.transport.requestJson(
        { method: "GET", path: `/files/${encodeURIComponent(uuid)}/`, query: { include: "appdata" } },
        (json) => json,
      );
      return { item: data, observedAt: requestedAt };
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * A batch store. `beforeResend`, when given, runs before each retry and
   * answers the uuids to send again (a subset); none left stops the retries.
   */
  async storeFiles(uuids: string[], options: BatchSendOptions = {}): Promise<BatchResult> {
    assertBatch(uuids);
    let sending = uuids;
    const answer = await this.transport.sdk(
      { method: "PUT", path: "/files/storage/", okStatus: 200, beforeRetry: resendCheck(options, (next) => (sending = next)) },
      (settings) => storeFiles({ uuids: sending }, settings),
    );
    return toBatchResult(answer);
  }

  /** A batch delete; `beforeResend` as for storeFiles. */
  async deleteFiles(uuids: string[], options: BatchSendOptions = {}): Promise<BatchResult> {
    assertBatch(uuids);
    let sending = uuids;
    const answer = await this.transport.sdk(
      { method: "DELETE", path: "/files/storage/", okStatus: 200, beforeRetry: resendCheck(options, (next) => (sending = next)) },
      (settings) => deleteFiles({ uuids: sending }, settings),
    );
    return toBatchResult(answer);
  }

  /**
   * Copies a file to a custom storage (`POST /files/remote_copy/`) and answers
   * where it went (`s3://bucket/path`). Uploadcare answers 200 instead of 201
   * when that path exists already, so a repeated copy is harmless.
   */
  async copyToRemote(options: { source: string; target: string; pattern?: string; makePublic?: boolean }): Promise<{ url: string }> {
    const answer = await this.transport.sdk({ method: "POST", path: "/files/remote_copy/", okStatus: 201 }, (settings) =>
      copyFileToRemoteStorage(
        { source: options.source, target: options.target, pattern: options.pattern ?? "${default}", makePublic: options.makePublic ?? false },
        settings,
      ),
    );
    if (typeof answer?.result !== "string") throw new UpstreamError("POST /files/remote_copy/: unexpected answer: no result URL");
    return { url: answer.result };
  }

  async listWebhooks(): Promise<Webhook[]> {
    return this.transport.sdk({ method: "GET", path: "/webhooks/", okStatus: 200 }, (settings) => listOfWebhooks({}, settings));
  }

  async createWebhook(options: { targetUrl: string; event: string; signingSecret: string }): Promise<Webhook> {
    return this.transport.sdk({ method: "POST", path: "/webhooks/", okStatus: 201 }, (settings) =>
      // The SDK types list only `file.uploaded` (reference section 15, type gaps).
      createWebhook({ targetUrl: options.targetUrl, event: options.event as never, signingSecret: options.signingSecret, isActive: true }, settings),
    );
  }

  async updateWebhook(options: { id: number; signingSecret: string }): Promise<Webhook> {
    return this.transport.sdk({ method: "PUT", path: `/webhooks/${options.id}/`, okStatus: 200 }, (settings) =>
      updateWebhook({ id: options.id, signingSecret: options.signingSecret, isActive: true }, settings),
    );
  }
}

export interface BatchSendOptions {
  /** Runs before each retry of the batch; answers the uuids to send again, a subset of the last ones. */
  beforeResend?: () => Promise<string[]>;
}

function resendCheck(options: BatchSendOptions, use: (uuids: string[]) => void): (() => Promise<boolean>) | undefined {
  const check = options.beforeResend;
  if (!check) return undefined;
  return async () => {
    const next = await check();
    if (next.length === 0) return false;
    assertBatch(next);
    use(next);
    return true;
  };
}

function assertBatch(uuids: string[]): void {
  if (uuids.length === 0 || uuids.length > BATCH_UUIDS_MAX) {
    throw new RangeError(`a batch holds 1 to ${BATCH_UUIDS_MAX} uuids, not ${uuids.length}`);
  }
}

function toBatchResult(answer: { problems: Record<string, string>; result: unknown[] }): BatchResult {
  const done = new Map<string, Record<string, unknown>>();
  for (const file of answer.result as Record<string, unknown>[]) {
    if (typeof file?.uuid === "string") done.set(file.uuid, file);
  }
  return { done, problems: answer.problems ?? {} };
}

function parseFilesPage(json: unknown): Omit<ListPage, "observedAt"> {
  const page = FilesPage.safeParse(json);
  if (!page.success) throw new Error(describeZodError(page.error));
  return { items: page.data.results, next: page.data.next ? cursorFromLink(page.data.next) : null, totals: page.data.totals };
}

/** The cursor inside a `next` link; its host is ignored (the sandbox and proxies differ). */
export function cursorFromLink(link: string): ListCursor {
  const url = new URL(link, "https://api.uploadcare.com/");
  const from = url.searchParams.get("from") ?? undefined;
  const offset = Number.parseInt(url.searchParams.get("offset") ?? "0", 10);
  return { ...(from ? { from } : {}), ...(offset > 0 ? { offset } : {}) };
}
