import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { UploadcareAuthSchema, UploadcareSimpleAuthSchema } from "@uploadcare/rest-client";
import type { Sandbox } from "../../src/sandbox/index.ts";

// Test helpers: raw requests signed by hand (to control every header), the
// official SDK's two auth schemes, and a tiny webhook receiver.

export const ACCEPT = "application/vnd.uploadcare-v0.7+json";

export function authSchemes(sb: Sandbox, secretKey = sb.secretKey) {
  return [
    ["simple", new UploadcareSimpleAuthSchema({ publicKey: sb.publicKey, secretKey })],
    ["signed", new UploadcareAuthSchema({ publicKey: sb.publicKey, secretKey })],
  ] as const;
}

export function sdkSettings(sb: Sandbox, authSchema: UploadcareSimpleAuthSchema | UploadcareAuthSchema) {
  return { authSchema, apiBaseURL: sb.url, retryThrottledRequestMaxTimes: 5, retryNetworkErrorMaxTimes: 0 };
}

export interface RawOptions {
  method?: string;
  body?: string | unknown;
  /** "signed" (default), "simple", "bearer" (Project API token) or "none". */
  auth?: "signed" | "simple" | "bearer" | "none";
  secretKey?: string;
  /** null omits the header. */
  accept?: string | null;
  /** Signed scheme: the date value and the header carrying it. */
  date?: string;
  dateHeader?: "X-Uploadcare-Date" | "Date";
  contentType?: string | null;
  /** Signed scheme: sign this URI / Content-Type instead of what is sent (to test tampering). */
  signUri?: string;
  signContentType?: string;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): any;
}

/** One request over node:http, so headers such as Date are sent exactly as given. */
export function raw(sb: Sandbox, uri: string, options: RawOptions = {}): Promise<RawResponse> {
  const method = options.method ?? "GET";
  const body = options.body === undefined ? "" : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (options.accept !== null) headers["Accept"] = options.accept ?? ACCEPT;
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  if (contentType !== null) headers["Content-Type"] = contentType;
  const auth = options.auth ?? "signed";
  const secret = options.secretKey ?? sb.secretKey;
  if (auth === "simple") headers["Authorization"] = `Uploadcare.Simple ${sb.publicKey}:${secret}`;
  if (auth === "bearer") headers["Authorization"] = `Bearer ${sb.projectApiToken}`;
  if (auth === "signed") {
    const date = options.date ?? sb.now().toUTCString();
    headers[options.dateHeader ?? "X-Uploadcare-Date"] = date;
    const md5 = createHash("md5").update(body).digest("hex");
    const signString = [method, md5, options.signContentType ?? contentType ?? "", date, options.signUri ?? uri].join("\n");
    headers["Authorization"] = `Uploadcare ${sb.publicKey}:${createHmac("sha1", secret).update(signString).digest("hex")}`;
  }
  const url = new URL(sb.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: uri, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Control API call (JSON in, JSON out). */
export async function control(sb: Sandbox, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sb.url}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /__sandbox${path} → ${res.status} ${text}`);
  return text === "" ? null : JSON.parse(text);
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

/** A webhook target: records every POST; `failFirst` answers 500 that many times first. */
export async function startReceiver(options: { failFirst?: number } = {}) {
  const received: Received[] = [];
  let failures = options.failFirst ?? 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (failures > 0) {
        failures--;
        res.writeHead(500).end("nope");
        return;
      }
      received.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
