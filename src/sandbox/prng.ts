// Seeded pseudo-random numbers. The sandbox never calls Math.random: the same
// seed must give the same project, keys and fault sequence on every machine.

/** One round of a 32-bit integer hash (a splitmix/murmur finaliser). */
export function mix32(value: number): number {
  let x = (value + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hash of several integers, used to derive a file's details from (seed, index, salt). */
export function hashInts(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) h = mix32(h ^ mix32(v | 0));
  return h;
}

/** mulberry32: small, fast and good enough for test data. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = mix32(seed) | 0;
  }

  /** The generator's whole state, to resume the same sequence later (a persisted sandbox). */
  snapshot(): number {
    return this.state;
  }

  restore(state: number): void {
    this.state = state | 0;
  }

  /** Unsigned 32-bit integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.float() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return (items[items.length - 1] as readonly [T, number])[0];
  }

  /** Exponentially distributed value with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Lower-case hex string of `length` characters. */
  hex(length: number): string {
    let out = "";
    while (out.length < length) out += this.next().toString(16).padStart(8, "0");
    return out.slice(0, length);
  }

  /** Mixed-case alphanumeric string, the shape of Uploadcare's signing secrets. */
  alnum(length: number): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.next() % alphabet.length];
    return out;
  }

  /** A random version-4 UUID as four 32-bit words. */
  uuidWords(): [number, number, number, number] {
    const w0 = this.next();
    const w1 = ((this.next() & 0xffff0fff) | 0x00004000) >>> 0;
    const w2 = ((this.next() & 0x3fffffff) | 0x80000000) >>> 0;
    const w3 = this.next();
    return [w0, w1, w2, w3];
  }
}
