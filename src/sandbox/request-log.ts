// The sandbox's own API log: every request it served on the Uploadcare and
// Project API surfaces, in the shape ucledger keeps for its own calls
// (reference section 14). A ring buffer, so a long run cannot exhaust memory.

export const REQUEST_LOG_CAPACITY = 100_000;

export interface RequestLogEntry {
  seq: number;
  /** Sandbox-clock time the request arrived. */
  time: string;
  request_id: string;
  api: "rest" | "project";
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  duration_ms: number;
  /** REST: the public key in Authorization (even when auth failed); Project API: the pub_key in the path. */
  key: string | null;
  /** Parsed JSON (or form) body of writes; null for reads. */
  body: unknown;
  /** Injected fault, if any: "error", "throttle" or "truncate". */
  fault: string | null;
  response_bytes: number;
}

export class RequestLog {
  private readonly entries: (RequestLogEntry | undefined)[];
  private seq = 0;
  private start = 0;
  private size = 0;

  constructor(private readonly capacity = REQUEST_LOG_CAPACITY) {
    this.entries = new Array(capacity);
  }

  add(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const full = { seq: ++this.seq, ...entry };
    const slot = (this.start + this.size) % this.capacity;
    this.entries[slot] = full;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
    return full;
  }

  /** Entries with seq > since, oldest first, at most `limit`. */
  list(since = 0, limit = Infinity): RequestLogEntry[] {
    const out: RequestLogEntry[] = [];
    // Entries are in seq order, so skip straight to the first one after `since`.
    const oldest = this.seq - this.size + 1;
    const skip = Math.max(0, Math.min(this.size, since - oldest + 1));
    for (let k = skip; k < this.size && out.length < limit; k++) {
      out.push(this.entries[(this.start + k) % this.capacity] as RequestLogEntry);
    }
    return out;
  }

  get lastSeq(): number {
    return this.seq;
  }

  clear(): void {
    this.entries.fill(undefined);
    this.start = 0;
    this.size = 0;
  }
}
