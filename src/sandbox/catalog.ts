import { Prng, hashInts } from "./prng.ts";
import { isoMicros } from "./time.ts";

// What generated files look like. Only the kind and size of a file are stored;
// its name, content_info, metadata and appdata are derived on demand from
// (seed, file index), so a million files cost a few bytes each.

export type Media = "image" | "video" | "other";

export interface MimeKind {
  mime: string;
  ext: string;
  media: Media;
  /** content_info.image.format or content_info.video.format */
  format: string;
  weight: number;
  /** log-uniform size range in bytes */
  minBytes: number;
  maxBytes: number;
}

export const MIME_KINDS: readonly MimeKind[] = [
  { mime: "image/jpeg", ext: "jpg", media: "image", format: "JPEG", weight: 34, minBytes: 40e3, maxBytes: 9e6 },
  { mime: "image/png", ext: "png", media: "image", format: "PNG", weight: 15, minBytes: 4e3, maxBytes: 5e6 },
  { mime: "image/webp", ext: "webp", media: "image", format: "WEBP", weight: 5, minBytes: 8e3, maxBytes: 2e6 },
  { mime: "image/gif", ext: "gif", media: "image", format: "GIF", weight: 3, minBytes: 10e3, maxBytes: 6e6 },
  { mime: "image/heic", ext: "heic", media: "image", format: "HEIF", weight: 3, minBytes: 400e3, maxBytes: 5e6 },
  { mime: "video/mp4", ext: "mp4", media: "video", format: "mp4", weight: 6, minBytes: 1e6, maxBytes: 600e6 },
  { mime: "video/quicktime", ext: "mov", media: "video", format: "mov", weight: 3, minBytes: 2e6, maxBytes: 1.5e9 },
  { mime: "video/webm", ext: "webm", media: "video", format: "webm", weight: 1, minBytes: 500e3, maxBytes: 100e6 },
  { mime: "application/pdf", ext: "pdf", media: "other", format: "", weight: 13, minBytes: 20e3, maxBytes: 25e6 },
  {
    mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ext: "docx", media: "other", format: "", weight: 4, minBytes: 10e3, maxBytes: 3e6,
  },
  { mime: "text/plain", ext: "txt", media: "other", format: "", weight: 2, minBytes: 100, maxBytes: 200e3 },
  { mime: "text/csv", ext: "csv", media: "other", format: "", weight: 2, minBytes: 1e3, maxBytes: 50e6 },
  { mime: "application/zip", ext: "zip", media: "other", format: "", weight: 3, minBytes: 10e3, maxBytes: 500e6 },
  { mime: "audio/mpeg", ext: "mp3", media: "other", format: "", weight: 2, minBytes: 1e6, maxBytes: 15e6 },
  { mime: "image/svg+xml", ext: "svg", media: "other", format: "", weight: 2, minBytes: 1e3, maxBytes: 200e3 },
];

/** Kind index meaning "mime type stored in the file's overrides". */
export const CUSTOM_KIND = 255;

const KIND_WEIGHTS = MIME_KINDS.map((k, i) => [i, k.weight] as const);

export function pickKind(rng: Prng): number {
  return rng.weighted(KIND_WEIGHTS);
}

export function pickSize(rng: Prng, kind: MimeKind): number {
  const lo = Math.log(kind.minBytes);
  const hi = Math.log(kind.maxBytes);
  return Math.round(Math.exp(lo + (hi - lo) * rng.float()));
}

/** Finds a catalog entry by mime type, or CUSTOM_KIND. */
export function kindOfMime(mime: string): number {
  const i = MIME_KINDS.findIndex((k) => k.mime === mime);
  return i < 0 ? CUSTOM_KIND : i;
}

export function mediaOfMime(mime: string): Media {
  if (mime === "image/svg+xml") return "other";
  if (mime.startsWith("image/")) return "image";
  if (mime.startsWith("video/")) return "video";
  return "other";
}

// Salts keep the derived streams of one file independent of each other.
const SALT_NAME = 1;
const SALT_CONTENT = 2;
const SALT_METADATA = 3;
const SALT_APPDATA = 4;

const WORDS = ["summer", "product", "team", "launch", "draft", "final", "avatar", "hero", "catalog", "menu", "offer", "q3"];

/** "20251023" */
function ymd(us: number): string {
  return isoMicros(us).slice(0, 10).replace(/-/g, "");
}

/** "124628" */
function hms(us: number): string {
  return isoMicros(us).slice(11, 19).replace(/:/g, "");
}

function digits(rng: Prng, n: number): string {
  return String(rng.int(0, 10 ** n - 1)).padStart(n, "0");
}

/** A plausible original filename; URL-safe, so it needs no escaping in CDN URLs. */
export function deriveFilename(seed: number, index: number, ext: string, uploadedUs: number): string {
  const rng = new Prng(hashInts(seed, index, SALT_NAME));
  const word = rng.pick(WORDS);
  // Pick the form first, then build only that one string.
  const form = rng.int(0, 2);
  switch (ext) {
    case "jpg":
      if (form === 0) return `IMG_${digits(rng, 4)}.jpg`;
      if (form === 1) return `PXL_${ymd(uploadedUs)}_${hms(uploadedUs)}.jpg`;
      return `photo-${word}-${digits(rng, 3)}.jpg`;
    case "png":
      if (form === 0) return `screenshot_${ymd(uploadedUs)}_${digits(rng, 3)}.png`;
      if (form === 1) return `logo-${word}.png`;
      return `banner_${digits(rng, 2)}.png`;
    case "heic":
      return `IMG_${digits(rng, 4)}.heic`;
    case "mp4":
    case "mov":
      return form === 0 ? `VID_${ymd(uploadedUs)}_${hms(uploadedUs)}.${ext}` : `clip_${digits(rng, 4)}.${ext}`;
    case "pdf":
      if (form === 0) return `invoice-${digits(rng, 5)}.pdf`;
      if (form === 1) return `report_${word}_${ymd(uploadedUs).slice(0, 4)}.pdf`;
      return `contract_${digits(rng, 3)}.pdf`;
    case "docx":
      return `${word}-brief-v${rng.int(1, 9)}.docx`;
    default:
      return `${word}_${digits(rng, 4)}.${ext}`;
  }
}

const ASPECTS = [1, 4 / 3, 3 / 2, 16 / 9, 3 / 4, 2 / 3, 9 / 16] as const;
const WIDTHS = [320, 640, 800, 1024, 1080, 1200, 1280, 1600, 1920, 2048, 3024, 4032] as const;
const COLOR_MODES = [["RGB", 70], ["RGBA", 18], ["L", 4], ["P", 4], ["CMYK", 2], ["LA", 1], ["YCbCr", 1]] as const;

export interface ContentInfo {
  mime: { mime: string; type: string; subtype: string };
  image?: Record<string, unknown>;
  video?: Record<string, unknown>;
}

function mimeParts(mime: string): { mime: string; type: string; subtype: string } {
  const slash = mime.indexOf("/");
  return slash < 0
    ? { mime, type: mime, subtype: "" }
    : { mime, type: mime.slice(0, slash), subtype: mime.slice(slash + 1) };
}

/** content_info for a file: `image` for images, `video` for videos, only `mime` otherwise. */
export function deriveContentInfo(seed: number, index: number, mime: string, format: string, uploadedUs: number): ContentInfo {
  const info: ContentInfo = { mime: mimeParts(mime) };
  const media = mediaOfMime(mime);
  if (media === "other") return info;
  const rng = new Prng(hashInts(seed, index, SALT_CONTENT));
  const width = rng.pick(WIDTHS);
  const height = Math.max(1, Math.round(width / rng.pick(ASPECTS)));
  if (media === "image") {
    const fmt = format || mimeParts(mime).subtype.toUpperCase();
    const exif = fmt === "JPEG" || fmt === "HEIF";
    const shotUs = uploadedUs - rng.int(60, 90 * 86400) * 1e6;
    info.image = {
      format: fmt,
      width,
      height,
      sequence: fmt === "GIF" ? rng.chance(0.7) : false,
      color_mode: fmt === "JPEG" || fmt === "HEIF" ? "RGB" : rng.weighted(COLOR_MODES),
      orientation: exif && rng.chance(0.6) ? rng.pick([0, 1, 1, 1, 3, 6, 6, 8]) : null,
      geo_location:
        exif && rng.chance(0.25)
          ? { latitude: Math.round((rng.float() * 140 - 70) * 1e10) / 1e10, longitude: Math.round((rng.float() * 360 - 180) * 1e10) / 1e10 }
          : null,
      datetime_original: exif && rng.chance(0.7) ? isoMicros(shotUs).slice(0, 19) : null,
      dpi: rng.chance(0.6) ? rng.pick([[72, 72], [96, 96], [300, 300]]) : null,
    };
  } else {
    const videoKbps = rng.int(300, 8000);
    const audioKbps = rng.pick([64, 96, 128, 129, 192, 256]);
    info.video = {
      duration: rng.int(2_000, 900_000),
      format: format || mimeParts(mime).subtype,
      bitrate: videoKbps + audioKbps,
      audio: rng.chance(0.9)
        ? [{ bitrate: audioKbps, codec: rng.pick(["aac", "aac", "opus", "mp3"]), sample_rate: rng.pick([44100, 48000]), channels: rng.pick([1, 2, 2]) }]
        : [],
      video: [{ height, width, frame_rate: rng.pick([24, 25, 30, 30, 60]), bitrate: videoKbps, codec: rng.pick(["h264", "h264", "hevc", "vp9"]) }],
    };
  }
  return info;
}

/** Metadata on about a third of the generated files; `{}` on the rest. */
export function deriveMetadata(seed: number, index: number): Record<string, string> {
  const rng = new Prng(hashInts(seed, index, SALT_METADATA));
  if (!rng.chance(0.3)) return {};
  const meta: Record<string, string> = { subsystem: rng.pick(["uploader", "uploader", "import", "api"]) };
  if (rng.chance(0.7)) meta["user_id"] = `u_${rng.int(1, 5000)}`;
  if (rng.chance(0.4)) meta["source"] = rng.pick(["web", "ios", "android"]);
  if (rng.chance(0.15)) meta["order:id"] = `ord-${rng.int(10000, 99999)}`;
  return meta;
}

const LABELS = [
  ["Person", []], ["Human", []], ["Dog", ["Animal", "Pet"]], ["Cat", ["Animal", "Pet"]], ["Car", ["Vehicle", "Transportation"]],
  ["Building", ["Architecture"]], ["Tree", ["Plant"]], ["Food", []], ["Text", []], ["Document", ["Text"]], ["Sky", ["Nature"]],
  ["Shoe", ["Clothing", "Footwear"]], ["Furniture", []], ["Home Decor", []], ["Sunlight", []],
] as const;

const CLAMAV_VERSIONS = ["0.104.2", "0.104.3", "0.105.0", "0.105.1"] as const;
const MALWARE = ["Win.Test.EICAR_HDB-1", "Doc.Downloader.Emotet-7001", "Pdf.Exploit.CVE_2018_4990-1"] as const;

function addonRecord(rng: Prng, version: string, uploadedUs: number, data: Record<string, unknown>): Record<string, unknown> {
  const created = uploadedUs + rng.int(2, 120) * 1e6 + rng.int(0, 999_999);
  const updated = rng.chance(0.2) ? created + rng.int(1, 3600) * 1e6 : created;
  return { data, version, datetime_created: isoMicros(created), datetime_updated: isoMicros(updated) };
}

/**
 * Appdata on some generated files: a virus scan on about a quarter (2% of
 * those infected), label detection on a fifth of the images, background
 * removal on a few.
 */
export function deriveAppdata(seed: number, index: number, media: Media, uploadedUs: number): Record<string, unknown> {
  const rng = new Prng(hashInts(seed, index, SALT_APPDATA));
  const appdata: Record<string, unknown> = {};
  if (rng.chance(0.25)) {
    const infected = rng.chance(0.02);
    // A clean scan has no `infected_with` at all (no null): `{"infected": false}`.
    appdata["uc_clamav_virus_scan"] = addonRecord(
      rng,
      rng.pick(CLAMAV_VERSIONS),
      uploadedUs,
      infected ? { infected, infected_with: rng.pick(MALWARE) } : { infected },
    );
  }
  if (media === "image" && rng.chance(0.2)) {
    const labels = [];
    const count = rng.int(1, 5);
    let confidence = 99.9 - rng.float() * 8;
    const names = new Set<string>();
    for (let i = 0; i < count; i++) {
      const [name, parents] = rng.pick(LABELS);
      if (names.has(name)) continue;
      names.add(name);
      labels.push({ Confidence: confidence, Instances: [], Name: name, Parents: parents.map((p) => ({ Name: p })) });
      confidence -= rng.float() * 15;
    }
    appdata["aws_rekognition_detect_labels"] = addonRecord(rng, "2016-06-27", uploadedUs, { LabelModelVersion: "3.0", Labels: labels });
  }
  if (media === "image" && rng.chance(0.03)) {
    appdata["remove_bg"] = addonRecord(rng, "1.0", uploadedUs, { foreground_type: rng.pick(["person", "product", "animal", "car"]) });
  }
  return appdata;
}
