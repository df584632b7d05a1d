import { SandboxClock } from "./clock.ts";
import { Faults, type FaultConfig } from "./faults.ts";
import { FileReader } from "./file-json.ts";
import { FileTable } from "./file-table.ts";
import { Lifecycle } from "./lifecycle.ts";
import { Prng, hashInts } from "./prng.ts";
import { RequestLog } from "./request-log.ts";
import { deriveKeys, generateFiles, generateGroups, type Group, type SandboxKeys } from "./seed.ts";
import { isoMicros } from "./time.ts";
import { restoreState, tableFromState, type StateFile } from "./persist.ts";
import { UsageBook } from "./usage.ts";
import { WebhookDelivery } from "./webhook-delivery.ts";
import { WebhookRegistry } from "./webhooks.ts";
import { formatUuid } from "./uuid.ts";

/** Everything one sandbox instance holds; handlers receive it whole. */
export interface SandboxContext {
  seed: number;
  keys: SandboxKeys;
  clock: SandboxClock;
  table: FileTable;
  files: FileReader;
  groups: Group[];
  webhooks: WebhookRegistry;
  delivery: WebhookDelivery;
  lifecycle: Lifecycle;
  faults: Faults;
  log: RequestLog;
  usage: UsageBook;
  /** Paths already written to the custom storage (remote copy answers 200 for those). */
  remoteObjects: Set<string>;
  simpleAuthOverHttp: boolean;
  /** The sandbox's own origin, e.g. "http://127.0.0.1:4010" (no trailing slash). */
  baseUrl: string;
  /** A fresh request id (UUID), from the seeded generator. */
  newRequestId(): string;
  /** The request-id generator, kept by a persisted sandbox so ids never repeat across restarts. */
  ids: Prng;
  /** The upload time the generated history ends at, in µs. */
  epochUs: number;
}

export interface ContextOptions {
  seed: number;
  files: number;
  now?: () => Date;
  faults?: Partial<FaultConfig>;
  simpleAuthOverHttp: boolean;
  /** Generated history ends at this time (ms) instead of the clock's now: the same files at every start. */
  epochMs?: number;
  /** A saved state (persist.ts) of the same seed, size and epoch, to resume from. */
  state?: StateFile;
}

export function createContext(options: ContextOptions): SandboxContext {
  const { seed } = options;
  const clock = new SandboxClock(options.now);
  const keys = deriveKeys(seed);
  const epochUs = options.epochMs !== undefined ? options.epochMs * 1000 : clock.nowUs();
  let table: FileTable;
  let groups: Group[];
  if (options.state) ({ table, groups } = tableFromState(options.state));
  else {
    table = new FileTable(Math.max(1024, options.files + 1024));
    generateFiles(table, seed, options.files, epochUs);
    groups = generateGroups(table, seed);
  }
  const ids = new Prng(hashInts(seed, 0x72657169));
  const ctx = {
    seed,
    keys,
    clock,
    table,
    files: new FileReader(table, seed, ""),
    groups,
    webhooks: new WebhookRegistry(1000 + (hashInts(seed, 0x77686b73) % 9000) * 100),
    delivery: new WebhookDelivery(() => isoMicros(clock.nowUs())),
    faults: new Faults(seed, options.faults),
    log: new RequestLog(),
    usage: new UsageBook(table, seed),
    remoteObjects: new Set<string>(),
    simpleAuthOverHttp: options.simpleAuthOverHttp,
    baseUrl: "",
    ids,
    epochUs,
    newRequestId: () => {
      const [a, b, c, d] = ids.uuidWords();
      return formatUuid(a, b, c, d);
    },
  } as Omit<SandboxContext, "lifecycle"> as SandboxContext;
  ctx.lifecycle = new Lifecycle(ctx);
  if (options.state) restoreState(ctx, options.state);
  return ctx;
}
