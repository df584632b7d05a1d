/**
 * A concurrency limit that adapts to Uploadcare's answers (additive increase,
 * multiplicative decrease): each request that went through on its first try
 * widens the limit by 1/limit, up to `max`; a request that had to be retried
 * (a 429, or a 5xx) halves it, down to 1, at most once per `coolDownMs` so
 * that one burst of 429s does not collapse it to 1. Tag plans send one
 * request per file and key, thousands in a row: this keeps them just under
 * the rate Uploadcare accepts instead of hammering it and waiting.
 */
export class AdaptiveLimit {
  private limit: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private lastDecrease = Number.NEGATIVE_INFINITY;
  /** How often the limit was halved, for the log. */
  decreases = 0;

  constructor(
    private readonly options: { initial: number; max: number; coolDownMs?: number; now?: () => number } = { initial: 4, max: 16 },
  ) {
    this.limit = Math.max(1, Math.min(options.initial, options.max));
  }

  /** Requests allowed at once now. */
  get current(): number {
    return Math.floor(this.limit);
  }

  /** Runs `fn` when a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.inFlight >= this.current) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.inFlight -= 1;
      this.wake();
    }
  }

  /** A request went through on its first attempt. */
  succeeded(): void {
    this.limit = Math.min(this.options.max, this.limit + 1 / this.limit);
    this.wake();
  }

  /** A request was throttled or failed and is about to be retried. */
  throttled(): void {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastDecrease < (this.options.coolDownMs ?? 1_000)) return;
    this.lastDecrease = now;
    this.limit = Math.max(1, this.limit / 2);
    this.decreases += 1;
  }

  /** Lets as many waiting tasks try again as there are free slots; each checks again before it takes one. */
  private wake(): void {
    for (let free = this.current - this.inFlight; free > 0 && this.waiting.length > 0; free--) this.waiting.shift()!();
  }
}

/** Runs `fn` over every item under the limit; answers in input order. */
export async function mapAdaptive<T, R>(items: readonly T[], limit: AdaptiveLimit, fn: (item: T) => Promise<R>): Promise<R[]> {
  return Promise.all(items.map((item) => limit.run(() => fn(item))));
}
