import { US_PER_MS, US_PER_S } from "./time.ts";

/**
 * The sandbox's own clock: a base clock (real time unless injected) plus an
 * offset that `POST /__sandbox/clock` moves forward. Auth skew, file expiry,
 * "today" for the usage API and every timestamp the sandbox writes use it.
 */
export class SandboxClock {
  private offsetUs = 0;
  private lastStampUs = 0;

  private readonly base: () => Date;
  /** Real time has sub-millisecond detail to offer; an injected clock stays exact. */
  private readonly realTime: boolean;

  constructor(base?: () => Date) {
    this.base = base ?? (() => new Date());
    this.realTime = base === undefined;
  }

  /** Current time in microseconds. Has no side effects. */
  nowUs(): number {
    return this.base().getTime() * US_PER_MS + this.offsetUs;
  }

  nowMs(): number {
    return Math.floor(this.nowUs() / US_PER_MS);
  }

  /** The base clock alone, without the advance: what a client's own clock reads. */
  baseMs(): number {
    return this.base().getTime();
  }

  /**
   * A timestamp for something that just happened. Strictly increasing, so two
   * uploads in the same millisecond still get distinct microsecond times, the
   * way Uploadcare's do.
   */
  stampUs(): number {
    const now = this.nowUs() + (this.realTime ? Math.floor((performance.now() % 1) * US_PER_MS) : 0);
    this.lastStampUs = now > this.lastStampUs ? now : this.lastStampUs + 1;
    return this.lastStampUs;
  }

  /** How far `advance` has moved the clock ahead of its base, in µs (kept by a persisted sandbox). */
  get offset(): number {
    return this.offsetUs;
  }

  set offset(us: number) {
    this.offsetUs = us;
  }

  advance(seconds: number): void {
    this.offsetUs += Math.round(seconds * US_PER_S);
  }
}
