import { CUSTOM_KIND, MIME_KINDS, kindOfMime, pickKind, pickSize, type ContentInfo } from "./catalog.ts";
import type { SandboxContext } from "./context.ts";
import { REMOVED, STORED, UNSTORED } from "./file-table.ts";
import { hashInts, Prng } from "./prng.ts";
import { isoMicros } from "./time.ts";
import type { WebhookEvent } from "./webhooks.ts";

// Every change to a file goes through here, so that each one fires the
// webhooks Uploadcare would fire, with the file as it is after the change.

export interface Initiator {
  type: "api" | "system" | "addon";
  detail: { request_id: string | null; addon_name: string | null; source_file_uuid: string | null };
}

export function apiInitiator(requestId: string | null, sourceFileUuid: string | null = null): Initiator {
  return { type: "api", detail: { request_id: requestId, addon_name: null, source_file_uuid: sourceFileUuid } };
}

/** [inf] Expiry of temporary files is the platform's own doing: initiator `system`. */
export const SYSTEM_INITIATOR: Initiator = { type: "system", detail: { request_id: null, addon_name: null, source_file_uuid: null } };

export interface UploadSpec {
  stored?: boolean;
  mimeType?: string;
  size?: number;
  filename?: string;
  metadata?: Record<string, string>;
  appdata?: Record<string, unknown>;
  /** Upload time in µs; all files of one call share it when given (a tie run). */
  uploadedUs?: number;
  isReady?: boolean;
  contentInfo?: ContentInfo | null;
}

export class Lifecycle {
  private readonly rng: Prng;

  constructor(private readonly ctx: SandboxContext) {
    this.rng = new Prng(hashInts(ctx.seed, 0x75706c64));
  }

  /** The upload generator's state (new uuids, kinds, sizes), for a persisted sandbox. */
  get rngState(): number {
    return this.rng.snapshot();
  }

  set rngState(state: number) {
    this.rng.restore(state);
  }

  /** Expires temporary files that are due; call before serving anything. */
  tick(): void {
    for (const i of this.ctx.table.expireDue(this.ctx.clock.nowUs())) this.emit("file.deleted", i, SYSTEM_INITIATOR);
  }

  upload(spec: UploadSpec, count: number, initiator: Initiator): number[] {
    const { table } = this.ctx;
    const created: number[] = [];
    for (let n = 0; n < count; n++) {
      const uploadedUs = spec.uploadedUs ?? this.ctx.clock.stampUs();
      const kind = spec.mimeType !== undefined ? kindOfMime(spec.mimeType) : pickKind(this.rng);
      const size = spec.size ?? pickSize(this.rng, MIME_KINDS[kind === CUSTOM_KIND ? 0 : kind] as (typeof MIME_KINDS)[number]);
      const i = table.insert(this.newUuidWords(), uploadedUs, size, kind, UNSTORED, NaN, NaN);
      const o = table.overridesFor(i);
      if (kind === CUSTOM_KIND) o.mime = spec.mimeType as string;
      if (spec.filename !== undefined) o.filename = spec.filename;
      o.metadata = { ...(spec.metadata ?? {}) };
      o.appdata = { ...(spec.appdata ?? {}) };
      if (spec.isReady !== undefined) o.isReady = spec.isReady;
      if (spec.contentInfo !== undefined) o.contentInfo = spec.contentInfo;
      created.push(i);
      this.emit("file.uploaded", i, initiator);
      if (spec.stored) {
        // Autostore happens a moment after the upload.
        table.markStored(i, Math.max(uploadedUs + this.rng.int(100_000, 900_000), 0));
        this.emit("file.stored", i, initiator);
      }
    }
    // A past upload time can make a temporary file due at once.
    this.tick();
    return created;
  }

  /** Stores a live file; datetime_stored is the time of the last store request. */
  store(i: number, initiator: Initiator): void {
    const { table } = this.ctx;
    const wasStored = table.status[i] === STORED;
    table.markStored(i, this.ctx.clock.stampUs());
    if (!wasStored) this.emit("file.stored", i, initiator);
  }

  /** Deletes a file: datetime_removed now, datetime_stored and original_file_url null. Idempotent. */
  remove(i: number, initiator: Initiator): void {
    const { table } = this.ctx;
    if (table.status[i] === REMOVED) return;
    table.markRemoved(i, this.ctx.clock.stampUs());
    this.emit("file.deleted", i, initiator);
  }

  /** Sets one metadata key; returns true when the key was created. */
  setMetadataKey(i: number, key: string, value: string, initiator: Initiator): boolean {
    const previous = this.ctx.files.metadata(i);
    // hasOwn, not `in`: `__proto__` is a valid metadata key and every object "has" it.
    const created = !Object.hasOwn(previous, key);
    if (!created && previous[key] === value) return false;
    this.ctx.table.overridesFor(i).metadata = { ...previous, [key]: value };
    this.ctx.table.touch();
    this.emit("file.info_updated", i, initiator, { metadata: previous });
    return created;
  }

  deleteMetadataKey(i: number, key: string, initiator: Initiator): boolean {
    const previous = this.ctx.files.metadata(i);
    if (!Object.hasOwn(previous, key)) return false;
    const next = { ...previous };
    delete next[key];
    this.ctx.table.overridesFor(i).metadata = next;
    this.ctx.table.touch();
    this.emit("file.info_updated", i, initiator, { metadata: previous });
    return true;
  }

  /**
   * Replaces some add-ons' appdata (null removes one), as an add-on run would;
   * fires file.info_updated, and file.infected when a virus scan finds something.
   */
  setAppdata(i: number, changes: Record<string, unknown>, initiator: Initiator): void {
    const previous = this.ctx.files.appdata(i);
    const next: Record<string, unknown> = { ...previous };
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete next[name];
      else next[name] = value;
    }
    this.ctx.table.overridesFor(i).appdata = next;
    this.ctx.table.touch();
    this.emit("file.info_updated", i, initiator, { appdata: previous });
    const scan = next["uc_clamav_virus_scan"] as { data?: { infected?: unknown } } | undefined;
    if ("uc_clamav_virus_scan" in changes && scan?.data?.infected === true) this.emit("file.infected", i, initiator);
  }

  newUuidWords(): [number, number, number, number] {
    for (;;) {
      const w = this.rng.uuidWords();
      if (this.ctx.table.findWords(w) < 0) return w;
    }
  }

  /** Sends `event` about file `i` to every active subscription for it. */
  emit(event: WebhookEvent, i: number, initiator: Initiator, previousValues?: Record<string, unknown>): void {
    const hooks = this.ctx.webhooks.active(event);
    if (hooks.length === 0) return;
    const data = this.ctx.files.toJson(i, true);
    const file = this.ctx.files.cdnUrl(i);
    for (const hook of hooks) {
      const payload: Record<string, unknown> = {
        initiator,
        hook: {
          id: hook.id,
          project_id: this.ctx.keys.projectId,
          project_pub_key: this.ctx.keys.publicKey,
          target: hook.targetUrl,
          event: hook.event,
          is_active: hook.isActive,
          version: hook.version,
          created_at: isoMicros(hook.createdUs),
          updated_at: isoMicros(hook.updatedUs),
        },
        data,
        file,
      };
      if (previousValues) payload["previous_values"] = previousValues;
      this.ctx.delivery.enqueue({ webhookId: hook.id, event, targetUrl: hook.targetUrl, signingSecret: hook.signingSecret }, payload);
    }
  }
}
