/**
 * When to try a request again, and after how long. Retries only on 429, 5xx,
 * network errors, timeouts and unreadable bodies; every wait is bounded.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Never wait less than this after a 429, whatever Retry-After says: no busy loop. */
  throttleFloorMs: number;
  /** Never wait more than this after a 429. */
  throttleCapMs: number;
  /** Wait when a 429 carries no usable Retry-After (the SDK's own default). */
  throttleDefaultMs: number;
  /** First backoff after a 5xx or network error; doubles each time, with jitter. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** A request slower than this is aborted and counts as a network error. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  throttleFloorMs: 1_000,
  throttleCapMs: 60_000,
  throttleDefaultMs: 15_000,
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  timeoutMs: 30_000,
};

export type AttemptOutcome =
  | { kind: "ok" }
  | { kind: "throttled"; retryAfterS: number | null }
  | { kind: "server_error" }
  | { kind: "network_error" }
  | { kind: "client_error" };

export function classifyStatus(status: number, retryAfter: string | null): AttemptOutcome {
  if (status === 429) return { kind: "throttled", retryAfterS: parseRetryAfter(retryAfter) };
  if (status >= 500) return { kind: "server_error" };
  if (status >= 400) return { kind: "client_error" };
  return { kind: "ok" };
}

/** Seconds from a Retry-After header: an integer or an HTTP date. Null when unusable. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, (at - now.getTime()) / 1000);
}

export function isRetryable(outcome: AttemptOutcome): boolean {
  return outcome.kind === "throttled" || outcome.kind === "server_error" || outcome.kind === "network_error";
}

/** How long to wait before attempt `attempt + 1` (attempt counts from 1). */
export function delayBeforeRetryMs(outcome: AttemptOutcome, attempt: number, policy: RetryPolicy, random = Math.random): number {
  if (outcome.kind === "throttled") {
    const asked = outcome.retryAfterS === null ? policy.throttleDefaultMs : outcome.retryAfterS * 1000;
    return Math.min(policy.throttleCapMs, Math.max(policy.throttleFloorMs, asked));
  }
  const exponential = Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  // Full jitter: instances retrying together do not hit the API in lockstep.
  return Math.max(policy.backoffBaseMs / 2, Math.round(exponential * (0.5 + random() / 2)));
}
