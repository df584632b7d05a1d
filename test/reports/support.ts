import type { AddressInfo } from "node:net";
import { inflateSync } from "node:zlib";
import { sql } from "drizzle-orm";
import { SMTPServer } from "smtp-server";
import type { Db } from "../../src/db/client.ts";

// ---------------------------------------------------------------- PNG

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row by row. */
  pixels: Buffer;
}

/** A small PNG reader for what resvg writes: 8-bit RGB or RGBA, not interlaced. */
export function decodePng(png: Buffer): DecodedPng {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error("not a PNG: bad signature");
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("only 8-bit, non-interlaced PNGs");
      colorType = data[9]!;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!channels) throw new Error(`unsupported PNG color type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = Math.floor((a + b) / 2);
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i]! + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 4; ch++) out[(y * width + x) * 4 + ch] = ch < channels ? line[x * channels + ch]! : 255;
    }
    prev = line;
  }
  return { width, height, pixels: out };
}

/** Dark pixels (every channel below 100) inside a rectangle: text or marks drawn there. */
export function darkPixels(image: DecodedPng, box: { x: number; y: number; width: number; height: number }): number {
  let n = 0;
  for (let y = box.y; y < Math.min(image.height, box.y + box.height); y++) {
    for (let x = box.x; x < Math.min(image.width, box.x + box.width); x++) {
      const i = (y * image.width + x) * 4;
      if (image.pixels[i]! < 100 && image.pixels[i + 1]! < 100 && image.pixels[i + 2]! < 100) n++;
    }
  }
  return n;
}

/** The title band of a chart at 2x: the first 34 CSS pixels, left half. */
export const TITLE_BOX = { x: 0, y: 0, width: 640, height: 68 };

// ---------------------------------------------------------------- SMTP

export interface ReceivedMail {
  to: string[];
  from: string;
  raw: Buffer;
}

export interface TestSmtp {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** While set, every RCPT TO is answered with this code and message. */
  refuse: { code: number; message: string } | null;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1:0; STARTTLS is disabled because smtp-server's built-in certificate expired. */
export async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = {
    url: "",
    port: 0,
    received: [],
    refuse: null,
    close: async () => {},
  };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (state.refuse) {
        const err = Object.assign(new Error(state.refuse.message), { responseCode: state.refuse.code });
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        state.received.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  state.port = port;
  state.url = `smtp://127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

// ---------------------------------------------------------------- ledger rows

export interface FileFixture {
  uuid: string;
  uploaded: string;
  size: number;
  mime?: string;
  filename?: string;
  stored?: string | null;
  removed?: string | null;
  /** `files.last_stored_at`; by default the store time, as the sync keeps it (a deleted file has it without `stored`). */
  lastStored?: string | null;
}

let serial = 0;
/** A uuid unique within the test run. */
export function nextUuid(): string {
  serial += 1;
  return `00000000-0000-4000-8000-${String(serial).padStart(12, "0")}`;
}

export async function addProject(db: Db, projectKey: string, name = projectKey): Promise<void> {
  await db.execute(sql`insert into projects (project_key, name) values (${projectKey}, ${name}) on conflict do nothing`);
}

export async function addFiles(db: Db, projectKey: string, files: FileFixture[]): Promise<void> {
  for (const f of files) {
    await db.execute(sql`insert into files (project_key, uuid, datetime_uploaded, datetime_stored, datetime_removed, last_stored_at, size, mime_type,
        is_image, is_ready, original_filename, metadata, data, first_seen_at, updated_at)
      values (${projectKey}, ${f.uuid}::uuid, ${f.uploaded}::timestamptz, ${f.stored ?? null}::timestamptz, ${f.removed ?? null}::timestamptz,
        ${f.lastStored === undefined ? (f.stored ?? null) : f.lastStored}::timestamptz,
        ${f.size}, ${f.mime ?? "image/png"}, true, true, ${f.filename ?? `${f.uuid}.png`}, '{}'::jsonb, '{}'::jsonb,
        ${f.uploaded}::timestamptz, ${f.uploaded}::timestamptz)`);
  }
}

// ---------------------------------------------------------------- a DST week with something of everything

export const BERLIN = "Europe/Berlin";
/** Monday 08:00 CEST after the spring-forward week 2026-W13: when its report is due. */
export const AFTER_W13 = new Date("2026-03-30T06:00:00.000Z");

/**
 * One project's ledger around Berlin's 2026-W13 (clocks forward on Sunday the
 * 29th), with rows on each side of the week's boundaries. The expected figures
 * are spelled out in query.test.ts.
 */
export async function seedDstWeek(db: Db, projectKey: string): Promise<{ a: string; b: string; c: string; d: string; e: string; f: string }> {
  await addProject(db, projectKey, `DST ${projectKey}`);
  const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => nextUuid()) as [string, string, string, string, string, string];
  await addFiles(db, projectKey, [
    // Monday 00:00 CET: the week's first instant.
    { uuid: a, uploaded: "2026-03-22T23:00:00Z", size: 1000, mime: "image/jpeg", filename: "monday.jpg", stored: "2026-03-22T23:00:01Z" },
    // Sunday 23:59:59.5 CEST: the week's last second; never stored, so it expires on Monday.
    { uuid: b, uploaded: "2026-03-29T21:59:59.5Z", size: 2000, mime: "image/png", filename: "late.png" },
    // Monday 00:00 CEST: the next week (a UTC week would still count it).
    { uuid: c, uploaded: "2026-03-29T22:00:00Z", size: 4000, mime: "image/png", filename: "next-week.png", stored: "2026-03-29T22:00:01Z" },
    // Sunday 23:59:59 CET of the week before, stored then, removed on Wednesday.
    { uuid: d, uploaded: "2026-03-22T22:59:59Z", size: 8000, mime: "image/png", filename: "old.png", stored: "2026-03-22T22:59:59.5Z", removed: "2026-03-25T10:00:00Z" },
    // Long stored: the baseline.
    { uuid: e, uploaded: "2026-03-10T10:00:00Z", size: 16000, mime: "image/png", filename: "base.png", stored: "2026-03-10T10:00:01Z" },
    // A temporary upload that expired on Sunday.
    { uuid: f, uploaded: "2026-03-28T10:00:00Z", size: 500, mime: "application/pdf", filename: "temp.pdf", removed: "2026-03-29T10:00:00Z" },
  ]);
  const { appendEvents } = await import("../../src/db/audit/chain.ts");
  await db.transaction((tx) =>
    appendEvents(tx, projectKey, [
      {
        fileUuid: d,
        kind: "removed",
        before: { datetime_removed: null },
        after: { datetime_removed: "2026-03-25T10:00:00Z" },
        occurredAt: "2026-03-25T10:00:00Z",
        observedAt: "2026-03-25T10:00:02Z",
        source: "action",
        runId: null,
        planId: "plan-1",
        actor: "token:ops",
      },
      {
        fileUuid: f,
        kind: "removed",
        before: null,
        after: null,
        occurredAt: null,
        observedAt: "2026-03-18T10:00:00Z",
        source: "reconcile",
        runId: null,
        planId: null,
        actor: "ucledger:sync",
      },
    ]),
  );
  await db.execute(sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at) values
    (${projectKey}, '2026-03-23', 'traffic', 5000000, 'bytes', now()),
    (${projectKey}, '2026-03-16', 'traffic', 1000000, 'bytes', now()),
    (${projectKey}, '2026-03-23', 'operations', 42, 'operations', now())`);
  let n = 0;
  for (const [at, status] of [
    ["2026-03-23T08:00:00Z", 200],
    ["2026-03-24T08:00:00Z", 500],
    ["2026-03-29T21:30:00Z", null],
    ["2026-03-17T08:00:00Z", 200],
  ] as const) {
    n += 1;
    await db.execute(sql`insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt)
      values (${projectKey}, ${`10000000-0000-4000-8000-${String(n).padStart(12, "0")}`}::uuid, ${at}::timestamptz, 'ucledger', 'rest', 'GET', '/files/', ${status}, 12, 1)`);
  }
  await db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, finished_at, status) values
    (${projectKey}, gen_random_uuid(), 'files', 'new', '2026-03-29T09:59:00Z', '2026-03-29T10:00:00Z', 'ok'),
    (${projectKey}, gen_random_uuid(), 'files', 'new', '2026-03-24T09:59:00Z', '2026-03-24T10:00:00Z', 'failed'),
    (${projectKey}, gen_random_uuid(), 'files', 'new', '2026-04-01T09:59:00Z', '2026-04-01T10:00:00Z', 'ok')`);
  return { a, b, c, d, e, f };
}
