import { RestClientError, UploadcareAuthSchema, type ApiRequestSettings } from "@uploadcare/rest-client";
import { UpstreamError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { RecordRequest } from "./request-record.ts";
import {
  classifyStatus,
  delayBeforeRetryMs,
  isRetryable,
  type AttemptOutcome,
  type RetryPolicy,
} from "./retry-policy.ts";

export const ACCEPT_V07 = "application/vnd.uploadcare-v0.7+json";

export interface UploadcareProject {
  publicKey: string;
  secretKey: string;
  apiBase: string;
  projectApiToken?: string | undefined;
}

export interface TransportDeps {
  project: UploadcareProject;
  record: RecordRequest;
  policy: RetryPolicy;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  runId?: string | null;
  userAgent?: string;
}

export interface RawRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** `rest`: signed v0.7 request; `project`: Project API with the Bearer token. */
  api?: "rest" | "project";
  /** Called when Uploadcare answers 429, before the wait and retry. */
  onThrottled?: () => void;
}

interface Attempt<T> {
  outcome: AttemptOutcome;
  value?: T;
  status: number | null;
  bytes: number | null;
  error: string | null;
  /** A non-retryable failure to raise as is. */
  fatal?: Error;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Every request to Uploadcare goes through here: signed with the SDK's own auth
 * schema, timed out, retried on 429/5xx/network errors within the policy, and
 * recorded attempt by attempt in the API log. The SDK's internal retries are
 * switched off so that each attempt is seen and recorded.
 */
export class UploadcareTransport {
  private readonly auth: UploadcareAuthSchema;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: TransportDeps) {
    this.auth = new UploadcareAuthSchema({ publicKey: deps.project.publicKey, secretKey: deps.project.secretKey });
    this.sleep = deps.sleep ?? defaultSleep;
  }

  get projectKey(): string {
    return this.deps.project.publicKey;
  }

  withRunId(runId: string | null): UploadcareTransport {
    return new UploadcareTransport({ ...this.deps, runId });
  }

  /** Settings for an SDK call: same auth and base, no hidden retries. */
  sdkSettings(): ApiRequestSettings {
    return {
      authSchema: this.auth,
      apiBaseURL: this.deps.project.apiBase,
      retryThrottledRequestMaxTimes: 0,
      retryNetworkErrorMaxTimes: 0,
      userAgent: this.deps.userAgent ?? "ucledger",
    };
  }

  /** A raw JSON request, for what the SDK does not cover (list with appdata, project info, usage). */
  /**
   * `requestedAt` is when the attempt that answered began: the moment the answer
   * describes at the earliest, which orders it against other observations.
   */
  async requestJson<T>(request: RawRequest, parse: (json: unknown) => T): Promise<{ status: number; data: T; requestedAt: Date }> {
    const url = new URL(this.deps.project.apiBase);
    // The path replaces any path of the base, as the SDK does (reference section 15, trap 1).
    url.pathname = request.path;
    url.search = new URLSearchParams(
      Object.entries(request.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString();
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const api = request.api ?? "rest";

    return this.withRetries(request.method, request.path, url.search.slice(1) || null, api, undefined, async (requestedAt) => {
      const attempt = await this.attemptJson(request, url, body, api, parse, requestedAt);
      if (attempt.outcome.kind === "throttled") request.onThrottled?.();
      return attempt;
    });
  }

  private async attemptJson<T>(
    request: RawRequest,
    url: URL,
    body: string | undefined,
    api: "rest" | "project",
    parse: (json: unknown) => T,
    requestedAt: Date,
  ): Promise<Attempt<{ status: number; data: T; requestedAt: Date }>> {
    const headers = await this.headersFor(api, url, request.method, body);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method: request.method, headers, body, signal: AbortSignal.timeout(this.deps.policy.timeoutMs) });
      text = await response.text();
    } catch (err) {
      return { outcome: { kind: "network_error" }, status: null, bytes: null, error: describeNetworkError(err) };
    }
    const bytes = Buffer.byteLength(text);
    const outcome = classifyStatus(response.status, response.headers.get("retry-after"));
    if (outcome.kind !== "ok") {
      const detail = upstreamDetail(text);
      const error = `${request.method} ${request.path} answered ${response.status}${detail ? `: ${detail}` : ""}`;
      return {
        outcome,
        status: response.status,
        bytes,
        error,
        fatal: outcome.kind === "client_error" ? new UpstreamError(error, { status: response.status }) : undefined,
      };
    }
    let json: unknown;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      // A body cut off mid-JSON: the answer never arrived whole, so ask again.
      return { outcome: { kind: "network_error" }, status: response.status, bytes, error: `unreadable JSON body (${bytes} bytes)` };
    }
    try {
      return { outcome, status: response.status, bytes, error: null, value: { status: response.status, data: parse(json), requestedAt } };
    } catch (err) {
      const message = `${request.method} ${request.path}: unexpected answer: ${(err as Error).message}`;
      return { outcome: { kind: "client_error" }, status: response.status, bytes, error: message, fatal: new UpstreamError(message, { cause: err }) };
    }
  }

  /**
   * An official SDK call, timed, retried and recorded like the raw ones.
   * `beforeRetry` runs after the wait and before each further attempt (a
   * caller re-checks what it is about to send); false stops the retries.
   */
  async sdk<T>(
    call: { method: string; path: string; query?: string; okStatus: number; beforeRetry?: () => Promise<boolean> },
    fn: (settings: ApiRequestSettings) => Promise<T>,
  ): Promise<T> {
    return this.withRetries(call.method, call.path, call.query ?? null, "rest", call.beforeRetry, async () => {
      try {
        const value = await withTimeout(fn(this.sdkSettings()), this.deps.policy.timeoutMs);
        return { outcome: { kind: "ok" }, status: call.okStatus, bytes: null, error: null, value };
      } catch (err) {
        if (err instanceof RestClientError && typeof err.status === "number" && err.status >= 400) {
          const outcome = classifyStatus(err.status, err.response?.headers.get("retry-after") ?? null);
          const error = `${call.method} ${call.path} answered ${err.status}: ${err.message}`;
          return {
            outcome,
            status: err.status,
            bytes: null,
            error,
            fatal: outcome.kind === "client_error" ? new UpstreamError(error, { status: err.status, cause: err }) : undefined,
          };
        }
        // Refused connections, resets, timeouts and bodies that are not JSON.
        return { outcome: { kind: "network_error" }, status: null, bytes: null, error: describeNetworkError(err) };
      }
    });
  }

  private async headersFor(api: "rest" | "project", url: URL, method: string, body: string | undefined): Promise<Headers> {
    if (api === "project") {
      const token = this.deps.project.projectApiToken;
      if (!token) throw new UpstreamError("no Project API token configured for this project");
      return new Headers({ Authorization: `Bearer ${token}`, Accept: "application/json", "User-Agent": this.deps.userAgent ?? "ucledger" });
    }
    const unsigned = new Request(url, {
      method,
      body,
      headers: { "Content-Type": "application/json", Accept: ACCEPT_V07, "User-Agent": this.deps.userAgent ?? "ucledger" },
    });
    const signed = await this.auth.getHeaders(unsigned as never);
    return new Headers(Object.fromEntries((signed as unknown as { entries(): Iterable<[string, string]> }).entries()));
  }

  private async withRetries<T>(
    method: string,
    path: string,
    query: string | null,
    api: "rest" | "project",
    beforeRetry: (() => Promise<boolean>) | undefined,
    once: (requestedAt: Date) => Promise<Attempt<T>>,
  ): Promise<T> {
    const { policy } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const requestedAt = new Date();
      const started = performance.now();
      const result = await once(requestedAt);
      const durationMs = Math.round(performance.now() - started);
      await this.deps.record({
        projectKey: this.deps.project.publicKey,
        requestedAt,
        source: "ucledger",
        api,
        method,
        path,
        query,
        status: result.status,
        durationMs,
        attempt,
        retryAfterS: result.outcome.kind === "throttled" ? result.outcome.retryAfterS : null,
        bytes: result.bytes,
        error: result.error,
        runId: this.deps.runId ?? null,
      });
      if (result.outcome.kind === "ok") return result.value as T;
      if (result.fatal) throw result.fatal;
      if (!isRetryable(result.outcome) || attempt >= policy.maxAttempts) {
        throw new UpstreamError(`${result.error ?? "request failed"} (gave up after ${attempt} attempts)`, {
          status: result.status ?? undefined,
        });
      }
      const delay = delayBeforeRetryMs(result.outcome, attempt, policy);
      this.deps.logger.debug({ method, path, attempt, delayMs: delay, error: result.error }, "retrying uploadcare request");
      await this.sleep(delay);
      if (beforeRetry && !(await beforeRetry())) {
        throw new UpstreamError(`${result.error ?? "request failed"} (not retried: the caller withdrew it after ${attempt} attempt(s))`, { status: result.status ?? undefined });
      }
    }
  }
}

function upstreamDetail(text: string): string | null {
  try {
    const json = JSON.parse(text) as { detail?: unknown; message?: unknown };
    const detail = json.detail ?? json.message;
    return typeof detail === "string" ? detail.slice(0, 300) : null;
  } catch {
    // Proxies answer HTML error pages: keep one readable line of their text.
    const line = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    return line ? line.slice(0, 120) : null;
  }
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err.name === "TimeoutError" || err.name === "AbortError") return "request timed out";
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("request timed out"), { name: "TimeoutError" })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
