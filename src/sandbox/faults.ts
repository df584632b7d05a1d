import { Prng, hashInts } from "./prng.ts";

// Injected failures for the Uploadcare and Project API surfaces (never for
// /__sandbox/). Rates draw from a seeded generator, so a run is repeatable;
// the *_next counters fail exactly the next N requests, for tests that must
// not depend on chance.

export interface FaultConfig {
  /** Added to every API request before it is handled. */
  latencyMs: number;
  /** Share of requests answered 500/502/503 (0..1). */
  errorRate: number;
  /** Status for injected errors; 0 picks 500, 502 or 503 at random. */
  errorStatus: number;
  /** Share of requests answered 429 (0..1). */
  throttleRate: number;
  /** Retry-After of injected 429s, in whole seconds. */
  retryAfterS: number;
  /** Share of 200 answers whose body is cut off mid-JSON (0..1). */
  truncateRate: number;
  errorNext: number;
  throttleNext: number;
  truncateNext: number;
  /** Sources whose local/remote copies fail. */
  copyFailUuids: string[];
  /** Status of a failing copy: 400 ("File is not ready yet.") or a 5xx. */
  copyFailStatus: number;
}

export const DEFAULT_FAULTS: FaultConfig = {
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 0,
  throttleRate: 0,
  retryAfterS: 1,
  truncateRate: 0,
  errorNext: 0,
  throttleNext: 0,
  truncateNext: 0,
  copyFailUuids: [],
  copyFailStatus: 400,
};

/** Wire (snake_case) names of the fault fields, as PUT /__sandbox/faults takes them. */
const WIRE: Record<keyof FaultConfig, string> = {
  latencyMs: "latency_ms",
  errorRate: "error_rate",
  errorStatus: "error_status",
  throttleRate: "throttle_rate",
  retryAfterS: "retry_after_s",
  truncateRate: "truncate_rate",
  errorNext: "error_next",
  throttleNext: "throttle_next",
  truncateNext: "truncate_next",
  copyFailUuids: "copy_fail_uuids",
  copyFailStatus: "copy_fail_status",
};

export function faultsToWire(config: FaultConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(WIRE).map(([k, wire]) => [wire, config[k as keyof FaultConfig]]));
}

/** Validates a (partial) wire or camelCase object; returns the changes or an error message. */
export function parseFaults(input: Record<string, unknown>): Partial<FaultConfig> | string {
  const out: Partial<FaultConfig> = {};
  const known = new Map<string, keyof FaultConfig>();
  for (const [k, wire] of Object.entries(WIRE)) {
    known.set(k, k as keyof FaultConfig);
    known.set(wire, k as keyof FaultConfig);
  }
  for (const [name, value] of Object.entries(input)) {
    const key = known.get(name);
    if (!key) return `unknown fault "${name}"`;
    if (key === "copyFailUuids") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) return `${WIRE[key]} must be a list of uuids`;
      out.copyFailUuids = value.map((v: string) => v.toLowerCase());
      continue;
    }
    const n = typeof value === "number" ? value : Number.NaN;
    if (!Number.isFinite(n) || n < 0) return `${WIRE[key]} must be a non-negative number`;
    if (key.endsWith("Rate") && n > 1) return `${WIRE[key]} must be between 0 and 1`;
    if ((key === "errorStatus" && n !== 0 && ![500, 502, 503].includes(n)) || (key === "copyFailStatus" && ![400, 500, 502, 503].includes(n))) {
      return `${WIRE[key]} must be one of ${key === "errorStatus" ? "0, 500, 502, 503" : "400, 500, 502, 503"}`;
    }
    if ((key.endsWith("Next") || key === "retryAfterS" || key === "latencyMs") && !Number.isInteger(n)) return `${WIRE[key]} must be an integer`;
    (out as Record<string, number>)[key] = n;
  }
  return out;
}

export class Faults {
  config: FaultConfig;
  private readonly rng: Prng;

  constructor(seed: number, initial: Partial<FaultConfig> = {}) {
    this.config = { ...DEFAULT_FAULTS, ...initial };
    this.rng = new Prng(hashInts(seed, 0x6661756c));
  }

  update(changes: Partial<FaultConfig>): void {
    this.config = { ...this.config, ...changes };
  }

  reset(): void {
    this.config = { ...DEFAULT_FAULTS };
  }

  /** Decides, before a request is handled, whether it fails with a 5xx (the status) or not (null). */
  error(): number | null {
    const c = this.config;
    if (c.errorNext > 0) {
      c.errorNext--;
      return this.errorStatus();
    }
    return c.errorRate > 0 && this.rng.float() < c.errorRate ? this.errorStatus() : null;
  }

  /** Decides, once a request has passed auth (where DRF throttles), whether it is answered 429. */
  throttle(): boolean {
    const c = this.config;
    if (c.throttleNext > 0) {
      c.throttleNext--;
      return true;
    }
    return c.throttleRate > 0 && this.rng.float() < c.throttleRate;
  }

  /** Decides, for a 200 answer, whether its body is cut off. */
  truncate(): boolean {
    const c = this.config;
    if (c.truncateNext > 0) {
      c.truncateNext--;
      return true;
    }
    return c.truncateRate > 0 && this.rng.float() < c.truncateRate;
  }

  copyFails(uuid: string): boolean {
    return this.config.copyFailUuids.includes(uuid.toLowerCase());
  }

  private errorStatus(): number {
    return this.config.errorStatus || this.rng.pick([500, 502, 503]);
  }
}

/** Bodies of injected errors: Django's page for 500, nginx's for 502/503. */
export function errorPage(status: number): string {
  if (status === 500) return "<h1>Server Error (500)</h1>";
  const title = status === 502 ? "502 Bad Gateway" : "503 Service Temporarily Unavailable";
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

export function throttleDetail(seconds: number): string {
  return `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? "" : "s"}.`;
}
