import {
  CUSTOM_KIND, MIME_KINDS, deriveAppdata, deriveContentInfo, deriveFilename, deriveMetadata, mediaOfMime, type ContentInfo,
} from "./catalog.ts";
import { type FileTable } from "./file-table.ts";
import { isoMicros } from "./time.ts";

// Reads a file's full record (stored columns + derived details + overrides)
// and renders it in the v0.7 shape, keys in the order Uploadcare sends them.

export const CDN_BASE = "https://ucarecdn.com";

export class FileReader {
  constructor(
    readonly table: FileTable,
    readonly seed: number,
    /** Base of the `url` field: the sandbox's own origin, like its next/previous links. */
    public apiBase: string,
  ) {}

  mime(i: number): string {
    const k = this.table.kind[i] as number;
    if (k === CUSTOM_KIND) return this.table.getOverrides(i)?.mime ?? "application/octet-stream";
    return (MIME_KINDS[k] as (typeof MIME_KINDS)[number]).mime;
  }

  filename(i: number): string {
    const custom = this.table.getOverrides(i)?.filename;
    if (custom !== undefined) return custom;
    const k = this.table.kind[i] as number;
    const ext = k === CUSTOM_KIND ? "bin" : (MIME_KINDS[k] as (typeof MIME_KINDS)[number]).ext;
    return deriveFilename(this.seed, i, ext, this.table.uploaded[i] as number);
  }

  contentInfo(i: number): ContentInfo | null {
    const o = this.table.getOverrides(i);
    if (o && o.contentInfo !== undefined) return o.contentInfo;
    const k = this.table.kind[i] as number;
    const format = k === CUSTOM_KIND ? "" : (MIME_KINDS[k] as (typeof MIME_KINDS)[number]).format;
    return deriveContentInfo(this.seed, i, this.mime(i), format, this.table.uploaded[i] as number);
  }

  metadata(i: number): Record<string, string> {
    return this.table.getOverrides(i)?.metadata ?? deriveMetadata(this.seed, i);
  }

  appdata(i: number): Record<string, unknown> {
    return this.table.getOverrides(i)?.appdata ?? deriveAppdata(this.seed, i, mediaOfMime(this.mime(i)), this.table.uploaded[i] as number);
  }

  isImage(i: number): boolean {
    return mediaOfMime(this.mime(i)) === "image";
  }

  /** The CDN address of the original, whatever the file's state (webhook `file` field). */
  cdnUrl(i: number, uuid = this.table.uuidOf(i), filename = this.filename(i)): string {
    const safe = /^[\w.\-]+$/.test(filename) ? filename : encodeURIComponent(filename);
    return `${CDN_BASE}/${uuid}/${safe}`;
  }

  toJson(i: number, includeAppdata: boolean): Record<string, unknown> {
    const t = this.table;
    const uuid = t.uuidOf(i);
    const stored = t.stored[i] as number;
    const removed = t.removed[i] as number;
    const isRemoved = !Number.isNaN(removed);
    const filename = this.filename(i);
    const json: Record<string, unknown> = {
      datetime_removed: isRemoved ? isoMicros(removed) : null,
      datetime_stored: Number.isNaN(stored) ? null : isoMicros(stored),
      datetime_uploaded: isoMicros(t.uploaded[i] as number),
      variations: null,
      is_image: this.isImage(i),
      is_ready: t.getOverrides(i)?.isReady ?? true,
      mime_type: this.mime(i),
      // Deleted files lose their CDN address (recorded behaviour).
      original_file_url: isRemoved ? null : this.cdnUrl(i, uuid, filename),
      original_filename: filename,
      size: t.size[i] as number,
      url: `${this.apiBase}/files/${uuid}/`,
      uuid,
      content_info: this.contentInfo(i),
      metadata: this.metadata(i),
    };
    if (includeAppdata) json["appdata"] = this.appdata(i);
    json["tags"] = t.getOverrides(i)?.tags ?? [];
    return json;
  }
}
