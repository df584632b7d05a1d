import { createHmac } from "node:crypto";

// Delivers webhook payloads: one ordered queue per subscription, a few quick
// retries on a non-2xx answer or a network error, and a record of every
// attempt for GET /__sandbox/webhook-deliveries. Uploadcare does not publish
// its retry policy; the sandbox keeps retries short so tests stay fast.

export const DELIVERY_ATTEMPTS = 4;
export const DELIVERY_BACKOFF_MS = [100, 250, 500] as const;
export const DELIVERY_TIMEOUT_MS = 5_000;
const LOG_CAPACITY = 5_000;

export interface DeliveryTarget {
  webhookId: number;
  event: string;
  targetUrl: string;
  signingSecret: string | null;
}

export interface DeliveryRecord {
  seq: number;
  webhook_id: number;
  event: string;
  target_url: string;
  attempt: number;
  status: number | null;
  error: string | null;
  ok: boolean;
  signed: boolean;
  duration_ms: number;
  attempted_at: string;
  payload: unknown;
}

/** `v1=<hex HMAC-SHA256(secret, raw body)>`, the X-Uc-Signature value. */
export function signatureHeader(secret: string, body: string): string {
  return `v1=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export class WebhookDelivery {
  private readonly chains = new Map<number, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly records: DeliveryRecord[] = [];
  private seq = 0;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(private readonly nowIso: () => string) {}

  /** Queues one payload; it is sent after the current request's response, in order per subscription. */
  enqueue(target: DeliveryTarget, payload: unknown): void {
    if (this.closed) return;
    const body = JSON.stringify(payload);
    const previous = this.chains.get(target.webhookId) ?? Promise.resolve();
    const job = previous.then(() => this.deliver(target, body, payload));
    this.chains.set(target.webhookId, job);
    this.inFlight.add(job);
    void job.finally(() => {
      this.inFlight.delete(job);
      if (this.chains.get(target.webhookId) === job) this.chains.delete(target.webhookId);
    });
  }

  /** Resolves when every queued delivery has finished (delivered or given up). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  list(since = 0): DeliveryRecord[] {
    return this.records.filter((r) => r.seq > since);
  }

  clear(): void {
    this.records.length = 0;
  }

  /** Drops queued retries and aborts requests in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await this.settle();
  }

  private async deliver(target: DeliveryTarget, body: string, payload: unknown): Promise<void> {
    // Yield first so the triggering response goes out before the webhook.
    await sleep(0);
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS && !this.closed; attempt++) {
      const started = performance.now();
      let status: number | null = null;
      let error: string | null = null;
      try {
        const headers: Record<string, string> = {
          "Content-Type": "application/json",
          "User-Agent": "UploadcareSandbox-Webhooks/1.0",
        };
        if (target.signingSecret) headers["X-Uc-Signature"] = signatureHeader(target.signingSecret, body);
        const res = await fetch(target.targetUrl, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      const ok = status !== null && status >= 200 && status < 300;
      this.record({
        seq: ++this.seq,
        webhook_id: target.webhookId,
        event: target.event,
        target_url: target.targetUrl,
        attempt,
        status,
        error,
        ok,
        signed: Boolean(target.signingSecret),
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
        attempted_at: this.nowIso(),
        payload,
      });
      if (ok) return;
      const backoff = DELIVERY_BACKOFF_MS[attempt - 1];
      if (backoff === undefined || this.closed) return;
      await sleep(backoff);
    }
  }

  private record(r: DeliveryRecord): void {
    this.records.push(r);
    if (this.records.length > LOG_CAPACITY) this.records.splice(0, this.records.length - LOG_CAPACITY);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
