import { SandboxClock } from "./clock.ts";
import { Faults, type FaultConfig } from "./faults.ts";
import { FileReader } from "./file-json.ts";
import { FileTable } from "./file-table.ts";
import { Lifecycle } from "./lifecycle.ts";
import { Prng, hashInts } from "./prng.ts";
import { RequestLog } from "./request-log.ts";
import { deriveKeys, generateFiles, generateGroups, type Group, type SandboxKeys } from "./seed.ts";
import { isoMicros } from "./time.ts";
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
}

export interface ContextOptions {
  seed: number;
  files: number;
  now?: () => Date;
  faults?: Partial<FaultConfig>;
  simpleAuthOverHttp: boolean;
}

export function createContext(options: ContextOptions): SandboxContext {
  const { seed } = options;
  const clock = new SandboxClock(options.now);
  const keys = deriveKeys(seed);
  const table = new FileTable(Math.max(1024, options.files + 1024));
  generateFiles(table, seed, options.files, clock.nowUs());
  const ids = new Prng(hashInts(seed, 0x72657169));
  const ctx = {
    seed,
    keys,
    clock,
    table,
    files: new FileReader(table, seed, ""),
    groups: generateGroups(table, seed),
    webhooks: new WebhookRegistry(1000 + (hashInts(seed, 0x77686b73) % 9000) * 100),
    delivery: new WebhookDelivery(() => isoMicros(clock.nowUs())),
    faults: new Faults(seed, options.faults),
    log: new RequestLog(),
    usage: new UsageBook(table, seed),
    remoteObjects: new Set<string>(),
    simpleAuthOverHttp: options.simpleAuthOverHttp,
    baseUrl: "",
    newRequestId: () => {
      const [a, b, c, d] = ids.uuidWords();
      return formatUuid(a, b, c, d);
    },
  } as Omit<SandboxContext, "lifecycle"> as SandboxContext;
  ctx.lifecycle = new Lifecycle(ctx);
  return ctx;
}
