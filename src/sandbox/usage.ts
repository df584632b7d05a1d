import type { FileTable } from "./file-table.ts";
import { hashInts } from "./prng.ts";
import { dayNumber } from "./time.ts";

// Daily usage figures for the Project API. Storage is what the files hold at
// the end of each UTC day; traffic and operations are a deterministic
// function of the seed and that day's storage and uploads, plus what the
// sandbox itself served that day. Single figures can be overridden to
// simulate a figure that settles late.

export const METRICS = ["traffic", "storage", "operations"] as const;
export type Metric = (typeof METRICS)[number];
export const UNITS: Record<Metric, string> = { traffic: "bytes", storage: "bytes", operations: "operations" };

export interface DayFigures {
  date: string;
  traffic: number;
  storage: number;
  operations: number;
}

interface Daily {
  version: number;
  firstDay: number;
  storage: Float64Array;
  uploads: Float64Array;
}

export class UsageBook {
  private cache: Daily | null = null;
  private readonly served = new Map<number, { bytes: number; requests: number }>();
  private readonly overrides = new Map<string, number>();

  constructor(
    private readonly table: FileTable,
    private readonly seed: number,
  ) {}

  /** Counts a response the sandbox served (REST or Project API) on the given day. */
  recordServed(day: number, bytes: number): void {
    const s = this.served.get(day) ?? { bytes: 0, requests: 0 };
    s.bytes += bytes;
    s.requests += 1;
    this.served.set(day, s);
  }

  /** What was served per day and the overrides, for a persisted sandbox: past days' figures must not change on a restart. */
  snapshot(): { served: [number, { bytes: number; requests: number }][]; overrides: [string, number][] } {
    return { served: [...this.served.entries()].map(([d, s]) => [d, { ...s }]), overrides: [...this.overrides.entries()] };
  }

  restore(state: { served: [number, { bytes: number; requests: number }][]; overrides: [string, number][] }): void {
    this.served.clear();
    for (const [day, s] of state.served) this.served.set(day, { ...s });
    this.overrides.clear();
    for (const [key, value] of state.overrides) this.overrides.set(key, value);
  }

  setOverride(day: number, metric: Metric, value: number): void {
    this.overrides.set(`${day}:${metric}`, value);
  }

  clearOverrides(): void {
    this.overrides.clear();
  }

  /** Figures for the days [fromDay, toDay], inclusive. */
  figures(fromDay: number, toDay: number, iso: (day: number) => string): DayFigures[] {
    const out: DayFigures[] = [];
    for (let day = fromDay; day <= toDay; day++) {
      out.push({
        date: iso(day),
        traffic: this.value(day, "traffic"),
        storage: this.value(day, "storage"),
        operations: this.value(day, "operations"),
      });
    }
    return out;
  }

  value(day: number, metric: Metric): number {
    const override = this.overrides.get(`${day}:${metric}`);
    if (override !== undefined) return override;
    const { storage, uploads } = this.base(day);
    const served = this.served.get(day);
    const h = hashInts(this.seed, day, metric === "traffic" ? 1 : 2);
    if (metric === "storage") return storage;
    if (metric === "traffic") {
      // Between 0.5% and 5% of the stored bytes are delivered each day.
      const share = 0.005 + 0.045 * (h / 4294967296);
      return Math.round(storage * share) + (served?.bytes ?? 0);
    }
    const background = storage > 0 ? 50 + (h % 450) : 0;
    return uploads * 3 + background + (served?.requests ?? 0);
  }

  private base(day: number): { storage: number; uploads: number } {
    const daily = this.daily();
    const k = day - daily.firstDay;
    if (k < 0) return { storage: 0, uploads: 0 };
    if (k >= daily.storage.length) return { storage: daily.storage[daily.storage.length - 1] ?? 0, uploads: 0 };
    return { storage: daily.storage[k] as number, uploads: daily.uploads[k] as number };
  }

  /** Storage held at each day's end, by a difference array over all files; rebuilt when files change. */
  private daily(): Daily {
    const t = this.table;
    if (this.cache && this.cache.version === t.version) return this.cache;
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < t.count; i++) {
      const d = dayNumber(t.uploaded[i] as number);
      if (d < first) first = d;
      const r = t.removed[i] as number;
      const end = Number.isNaN(r) ? d : dayNumber(r);
      if (end > last) last = end;
      if (d > last) last = d;
    }
    if (!Number.isFinite(first)) {
      this.cache = { version: t.version, firstDay: 0, storage: new Float64Array(0), uploads: new Float64Array(0) };
      return this.cache;
    }
    const days = last - first + 2;
    const diff = new Float64Array(days);
    const uploads = new Float64Array(days);
    for (let i = 0; i < t.count; i++) {
      const size = t.size[i] as number;
      const up = dayNumber(t.uploaded[i] as number) - first;
      diff[up] = (diff[up] as number) + size;
      uploads[up] = (uploads[up] as number) + 1;
      const r = t.removed[i] as number;
      if (!Number.isNaN(r)) {
        const rm = dayNumber(r) - first;
        diff[rm] = (diff[rm] as number) - size;
      }
    }
    let running = 0;
    for (let k = 0; k < days; k++) {
      running += diff[k] as number;
      diff[k] = running;
    }
    this.cache = { version: t.version, firstDay: first, storage: diff, uploads };
    return this.cache;
  }
}
