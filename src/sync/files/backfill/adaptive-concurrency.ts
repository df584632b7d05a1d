/**
 * How many list requests may be in flight, adapting to Uploadcare's answers:
 * halved on each 429 (the transport then waits out Retry-After and retries),
 * raised by one after a run of answers without one, never above `max`.
 */
export class AdaptiveConcurrency {
  private active = 0;
  private limit: number;
  private sinceChange = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    this.limit = Math.max(1, max);
  }

  get current(): number {
    return this.limit;
  }

  async run<T>(request: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      const result = await request();
      this.succeeded();
      return result;
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }

  /** A request was answered 429. */
  throttled(): void {
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.sinceChange = 0;
  }

  private succeeded(): void {
    // Additive increase: one more after as many clean answers as the limit is wide.
    if (this.limit < this.max && ++this.sinceChange >= this.limit * 2) {
      this.limit += 1;
      this.sinceChange = 0;
      this.waiting.shift()?.();
    }
  }
}
