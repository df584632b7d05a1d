/**
 * A bound on concurrent CPU-heavy requests: `running` at once, `waiting` more in
 * line, and anything beyond is refused at once (the caller answers 503 with
 * Retry-After) instead of piling up work no one may wait for.
 */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("too many requests of this kind are running or waiting");
    this.name = "QueueFullError";
  }
}

export class BoundedQueue {
  private active = 0;
  private readonly line: (() => void)[] = [];

  constructor(
    readonly running: number,
    readonly waiting: number,
    /** What Retry-After says when the line is full. */
    readonly retryAfterSeconds: number,
  ) {}

  get size(): { running: number; waiting: number } {
    return { running: this.active, waiting: this.line.length };
  }

  /** Runs `task` when a place frees up; throws QueueFullError when the line is full, or the signal's reason when it aborts while waiting. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.running) {
      if (this.line.length >= this.waiting) throw new QueueFullError(this.retryAfterSeconds);
      await new Promise<void>((resolve, reject) => {
        const turn = () => {
          signal?.removeEventListener("abort", leave);
          resolve();
        };
        const leave = () => {
          const index = this.line.indexOf(turn);
          if (index >= 0) this.line.splice(index, 1);
          reject(signal?.reason ?? new Error("aborted"));
        };
        if (signal?.aborted) return leave();
        signal?.addEventListener("abort", leave, { once: true });
        this.line.push(turn);
      });
    } else {
      this.active += 1;
    }
    try {
      return await task();
    } finally {
      // Hand the place straight to the next in line, or give it back.
      const next = this.line.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
