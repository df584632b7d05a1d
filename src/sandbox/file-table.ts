import type { ContentInfo } from "./catalog.ts";
import { mix32 } from "./prng.ts";
import { US_PER_DAY } from "./time.ts";
import { formatUuid, parseUuid } from "./uuid.ts";

// The project's files in columns of typed arrays, so a million of them fit in
// a few dozen megabytes: 16 bytes of UUID, four float64 times/sizes and two
// bytes of kind and status per file. Rarely used fields (custom names,
// changed metadata, appdata) live in a sparse map of overrides.

export const UNSTORED = 0;
export const STORED = 1;
export const REMOVED = 2;
export type FileStatus = typeof UNSTORED | typeof STORED | typeof REMOVED;

/** Temporary files are deleted this long after upload. */
export const UNSTORED_TTL_US = US_PER_DAY;

export interface FileOverrides {
  filename?: string;
  mime?: string;
  metadata?: Record<string, string>;
  appdata?: Record<string, unknown>;
  contentInfo?: ContentInfo | null;
  isReady?: boolean;
  tags?: string[];
}

export class FileTable {
  count = 0;
  words: Uint32Array;
  uploaded: Float64Array;
  stored: Float64Array;
  removed: Float64Array;
  size: Float64Array;
  kind: Uint8Array;
  status: Uint8Array;
  readonly overrides = new Map<number, FileOverrides>();
  /** File indices sorted by (datetime_uploaded, uuid). */
  order: Int32Array;
  orderLen = 0;
  readonly totals = { stored: 0, unstored: 0, removed: 0 };
  /** Bumped on every change; caches key on it. */
  version = 0;
  /** Unstored files, the only ones that can expire. */
  readonly pendingExpiry = new Set<number>();
  private nextExpiryUs = Infinity;
  private slots: Int32Array;
  private capacity: number;

  constructor(capacity = 1024) {
    this.capacity = Math.max(16, capacity);
    this.words = new Uint32Array(this.capacity * 4);
    this.uploaded = new Float64Array(this.capacity);
    this.stored = new Float64Array(this.capacity);
    this.removed = new Float64Array(this.capacity);
    this.size = new Float64Array(this.capacity);
    this.kind = new Uint8Array(this.capacity);
    this.status = new Uint8Array(this.capacity);
    this.order = new Int32Array(this.capacity);
    this.slots = new Int32Array(slotCountFor(this.capacity));
  }

  reserve(total: number): void {
    if (total <= this.capacity) return;
    let cap = this.capacity;
    while (cap < total) cap *= 2;
    this.words = grow(this.words, cap * 4);
    this.uploaded = grow(this.uploaded, cap);
    this.stored = grow(this.stored, cap);
    this.removed = grow(this.removed, cap);
    this.size = grow(this.size, cap);
    this.kind = grow(this.kind, cap);
    this.status = grow(this.status, cap);
    this.order = grow(this.order, cap);
    this.capacity = cap;
    if (slotCountFor(cap) > this.slots.length) this.rehash(slotCountFor(cap));
  }

  /**
   * Adds a file without placing it in `order`; bulk generation appends
   * everything and then calls `rebuildOrder` once.
   */
  append(w: readonly number[], uploadedUs: number, sizeBytes: number, kind: number, status: FileStatus, storedUs: number, removedUs: number): number {
    this.reserve(this.count + 1);
    const i = this.count++;
    this.words[i * 4] = w[0] as number;
    this.words[i * 4 + 1] = w[1] as number;
    this.words[i * 4 + 2] = w[2] as number;
    this.words[i * 4 + 3] = w[3] as number;
    this.uploaded[i] = uploadedUs;
    this.stored[i] = status === STORED ? storedUs : NaN;
    this.removed[i] = status === REMOVED ? removedUs : NaN;
    this.size[i] = sizeBytes;
    this.kind[i] = kind;
    this.status[i] = status;
    this.countStatus(status, 1);
    if (status === UNSTORED) this.trackExpiry(i);
    this.index(i);
    this.version++;
    return i;
  }

  /** Adds a file and places it in upload order (binary search + one memmove). */
  insert(w: readonly number[], uploadedUs: number, sizeBytes: number, kind: number, status: FileStatus, storedUs: number, removedUs: number): number {
    const i = this.append(w, uploadedUs, sizeBytes, kind, status, storedUs, removedUs);
    this.placeInOrder(i);
    return i;
  }

  /** Changes a file's upload time and moves it to its new place in `order`. */
  moveUploaded(i: number, uploadedUs: number): void {
    const at = this.positionOf(i);
    this.order.copyWithin(at, at + 1, this.orderLen);
    this.orderLen--;
    this.uploaded[i] = uploadedUs;
    this.placeInOrder(i);
    if (this.status[i] === UNSTORED) this.trackExpiry(i);
    this.version++;
  }

  /** Position of file `i` in `order`. */
  positionOf(i: number): number {
    const at = this.lowerBound(i);
    if (this.order[at] !== i) throw new Error(`file ${i} is not in order`);
    return at;
  }

  /** First position in `order` whose file sorts at or after file `i`. */
  private lowerBound(i: number): number {
    let lo = 0;
    let hi = this.orderLen;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.order[mid] as number, i) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts file `i` into `order` (one memmove: ~1 ms for a million files). */
  private placeInOrder(i: number): void {
    const at = this.lowerBound(i);
    this.order.copyWithin(at + 1, at, this.orderLen);
    this.order[at] = i;
    this.orderLen++;
  }

  /** Sorts every file into `order`; linear when files were appended in time order. */
  rebuildOrder(): void {
    const n = this.count;
    const order = this.order;
    for (let i = 0; i < n; i++) order[i] = i;
    this.orderLen = n;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = (this.uploaded[i - 1] as number) <= (this.uploaded[i] as number);
    if (!sorted) {
      order.subarray(0, n).sort((a, b) => this.compare(a, b));
      return;
    }
    // Already in time order: only runs of equal times need sorting by uuid.
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i === n || this.uploaded[i] !== this.uploaded[start]) {
        if (i - start > 1) order.subarray(start, i).sort((a, b) => this.compare(a, b));
        start = i;
      }
    }
  }

  /** Orders by upload time, then by uuid: the sandbox's stable listing order. */
  compare(a: number, b: number): number {
    const d = (this.uploaded[a] as number) - (this.uploaded[b] as number);
    if (d !== 0) return d;
    for (let k = 0; k < 4; k++) {
      const x = this.words[a * 4 + k] as number;
      const y = this.words[b * 4 + k] as number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }

  uuidOf(i: number): string {
    const w = this.words;
    return formatUuid(w[i * 4] as number, w[i * 4 + 1] as number, w[i * 4 + 2] as number, w[i * 4 + 3] as number);
  }

  /** File index for a uuid string, or -1. */
  find(uuid: string): number {
    const w = parseUuid(uuid);
    return w ? this.findWords(w) : -1;
  }

  findWords(w: readonly number[]): number {
    const mask = this.slots.length - 1;
    let s = slotHash(w[0] as number, w[3] as number) & mask;
    for (;;) {
      const entry = this.slots[s] as number;
      if (entry === 0) return -1;
      const i = entry - 1;
      const b = i * 4;
      if (this.words[b] === w[0] && this.words[b + 1] === w[1] && this.words[b + 2] === w[2] && this.words[b + 3] === w[3]) return i;
      s = (s + 1) & mask;
    }
  }

  getOverrides(i: number): FileOverrides | undefined {
    return this.overrides.get(i);
  }

  /** The overrides record of a file, created if missing. */
  overridesFor(i: number): FileOverrides {
    let o = this.overrides.get(i);
    if (!o) {
      o = {};
      this.overrides.set(i, o);
    }
    return o;
  }

  markStored(i: number, nowUs: number): void {
    this.stored[i] = nowUs;
    this.setStatus(i, STORED);
  }

  markRemoved(i: number, nowUs: number): void {
    this.removed[i] = nowUs;
    this.stored[i] = NaN;
    this.setStatus(i, REMOVED);
  }

  /** Moves a file to another status and keeps the counters and expiry set right. */
  setStatus(i: number, status: FileStatus): void {
    const before = this.status[i] as FileStatus;
    this.countStatus(before, -1);
    this.countStatus(status, 1);
    this.status[i] = status;
    if (status !== REMOVED) this.removed[i] = NaN;
    if (status === UNSTORED) {
      this.stored[i] = NaN;
      this.trackExpiry(i);
    } else {
      this.pendingExpiry.delete(i);
    }
    this.version++;
  }

  touch(): void {
    this.version++;
  }

  /**
   * Removes unstored files older than 24 h, as Uploadcare does, and returns
   * them. Their removal time is when they expired (upload + 24 h), not when
   * the sandbox noticed. Cheap unless something is due.
   */
  expireDue(nowUs: number): number[] {
    if (nowUs < this.nextExpiryUs) return [];
    const expired: number[] = [];
    let next = Infinity;
    for (const i of this.pendingExpiry) {
      const due = (this.uploaded[i] as number) + UNSTORED_TTL_US;
      if (due <= nowUs) expired.push(i);
      else if (due < next) next = due;
    }
    expired.sort((a, b) => this.compare(a, b));
    for (const i of expired) this.markRemoved(i, (this.uploaded[i] as number) + UNSTORED_TTL_US);
    this.nextExpiryUs = next;
    return expired;
  }

  private trackExpiry(i: number): void {
    this.pendingExpiry.add(i);
    const due = (this.uploaded[i] as number) + UNSTORED_TTL_US;
    if (due < this.nextExpiryUs) this.nextExpiryUs = due;
  }

  private countStatus(status: FileStatus, delta: number): void {
    if (status === STORED) this.totals.stored += delta;
    else if (status === UNSTORED) this.totals.unstored += delta;
    else this.totals.removed += delta;
  }

  private index(i: number): void {
    // A rehash re-inserts every file, this one included.
    if (this.count * 2 > this.slots.length) return this.rehash(this.slots.length * 2);
    const mask = this.slots.length - 1;
    let s = slotHash(this.words[i * 4] as number, this.words[i * 4 + 3] as number) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = i + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.count; i++) {
      let s = slotHash(this.words[i * 4] as number, this.words[i * 4 + 3] as number) & mask;
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = i + 1;
    }
  }
}

function slotHash(a: number, b: number): number {
  return mix32(a ^ Math.imul(b, 0x9e3779b1));
}

function slotCountFor(capacity: number): number {
  let n = 16;
  while (n < capacity * 2) n *= 2;
  return n;
}

type TypedArray = Uint32Array | Float64Array | Uint8Array | Int32Array;

function grow<T extends TypedArray>(array: T, length: number): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array as never);
  return next;
}
