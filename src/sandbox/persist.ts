import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { SandboxContext } from "./context.ts";
import { FileTable, type FileOverrides, type FileStatus } from "./file-table.ts";
import type { Group } from "./seed.ts";
import { parseUuid } from "./uuid.ts";
import type { Webhook } from "./webhooks.ts";

// A sandbox that outlives its process: everything a client can change (files,
// their metadata and appdata, groups, webhook subscriptions, the clock's
// advance, what was served per day, the generators' positions) kept in one
// JSON file. A restarted sandbox with the same seed, file count and epoch reads
// it back and answers exactly as before, so a ledger syncing it sees no change
// that did not happen. Meant for small projects (the demo's 2,000 files): the
// whole state is rewritten on each change.

const FORMAT = "ucledger-sandbox-state/1";

/** What must match for a state file to belong to this sandbox. */
export interface StateIdentity {
  seed: number;
  files: number;
  epochUs: number;
}

export interface StateFile extends StateIdentity {
  format: typeof FORMAT;
  files: number;
  table: {
    uuids: string[];
    uploaded: number[];
    stored: (number | null)[];
    removed: (number | null)[];
    size: number[];
    kind: number[];
    status: number[];
    overrides: [number, FileOverrides][];
  };
  groups: Group[];
  webhooks: { nextId: number; hooks: Webhook[] };
  clockOffsetUs: number;
  usage: ReturnType<SandboxContext["usage"]["snapshot"]>;
  rng: { uploads: number; requestIds: number };
  remoteObjects: string[];
}

const orNull = (n: number) => (Number.isNaN(n) ? null : n);

function snapshot(ctx: SandboxContext, identity: StateIdentity): StateFile {
  const t = ctx.table;
  const n = t.count;
  const rows = Array.from({ length: n }, (_, i) => i);
  return {
    format: FORMAT,
    ...identity,
    table: {
      uuids: rows.map((i) => t.uuidOf(i)),
      uploaded: rows.map((i) => t.uploaded[i] as number),
      stored: rows.map((i) => orNull(t.stored[i] as number)),
      removed: rows.map((i) => orNull(t.removed[i] as number)),
      size: rows.map((i) => t.size[i] as number),
      kind: rows.map((i) => t.kind[i] as number),
      status: rows.map((i) => t.status[i] as number),
      overrides: [...t.overrides.entries()],
    },
    groups: ctx.groups.map((g) => ({ ...g, files: [...g.files] })),
    webhooks: ctx.webhooks.snapshot(),
    clockOffsetUs: ctx.clock.offset,
    usage: ctx.usage.snapshot(),
    rng: { uploads: ctx.lifecycle.rngState, requestIds: ctx.ids.snapshot() },
    remoteObjects: [...ctx.remoteObjects],
  };
}

/** Reads a state file; undefined when there is none, or it belongs to another seed, size or epoch. */
export function readState(path: string, identity: StateIdentity): StateFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let state: StateFile;
  try {
    state = JSON.parse(text) as StateFile;
  } catch {
    throw new Error(`sandbox state file ${path} is not valid JSON: move it away to start the sandbox afresh`);
  }
  if (state.format !== FORMAT) throw new Error(`sandbox state file ${path} is not a ${FORMAT} file`);
  if (state.seed !== identity.seed || state.files !== identity.files || state.epochUs !== identity.epochUs) return undefined;
  return state;
}

/** The files of a saved state, at the same indices (derived details depend on them). */
export function tableFromState(state: StateFile): { table: FileTable; groups: Group[] } {
  const s = state.table;
  const table = new FileTable(Math.max(1024, s.uuids.length + 1024));
  for (let i = 0; i < s.uuids.length; i++) {
    const words = parseUuid(s.uuids[i] as string);
    if (!words) throw new Error(`sandbox state: file ${i} has no valid uuid`);
    table.append(words, s.uploaded[i] as number, s.size[i] as number, s.kind[i] as number, s.status[i] as FileStatus, s.stored[i] ?? NaN, s.removed[i] ?? NaN);
  }
  for (const [i, o] of s.overrides) table.overrides.set(i, o);
  table.rebuildOrder();
  return { table, groups: state.groups.map((g) => ({ ...g, files: [...g.files] })) };
}

/** The rest of a saved state, into a context built on `tableFromState`. */
export function restoreState(ctx: SandboxContext, state: StateFile): void {
  ctx.usage.restore(state.usage);
  ctx.webhooks.restore(state.webhooks);
  ctx.clock.offset = state.clockOffsetUs;
  ctx.lifecycle.rngState = state.rng.uploads;
  ctx.ids.restore(state.rng.requestIds);
  ctx.remoteObjects.clear();
  for (const path of state.remoteObjects) ctx.remoteObjects.add(path);
}

/**
 * Writes the state after changes: at once when files or subscriptions changed
 * (a write the ledger may already have recorded must survive a crash), within
 * a second when only the served-traffic counters moved.
 */
export class StatePersister {
  private savedVersion = -1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: SandboxContext,
    private readonly path: string,
    private readonly identity: StateIdentity,
  ) {}

  /** After a request: `wrote` is true for anything but GET/HEAD (webhooks, groups, copies). */
  afterRequest(wrote: boolean): void {
    if (wrote || this.ctx.table.version !== this.savedVersion) return this.save();
    this.timer ??= setTimeout(() => this.save(), 1000).unref();
  }

  save(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot(this.ctx, this.identity)), { mode: 0o600 });
    // Atomic on one filesystem: a crash leaves the old state or the new one, never half of either.
    renameSync(tmp, this.path);
    this.savedVersion = this.ctx.table.version;
  }
}
