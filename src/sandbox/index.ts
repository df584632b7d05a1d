import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "./app.ts";
import { createContext, type SandboxContext } from "./context.ts";
import type { FaultConfig } from "./faults.ts";
import type { UploadSpec } from "./lifecycle.ts";
import type { RequestLogEntry } from "./request-log.ts";
import type { DeliveryRecord } from "./webhook-delivery.ts";
import { parseIsoMicros } from "./time.ts";
import { readState, StatePersister } from "./persist.ts";

// A local Uploadcare: REST API v0.7 and the Project API's usage endpoints,
// close enough that @uploadcare/rest-client cannot tell the difference.
// Self-contained: imports nothing from the rest of ucledger.

export type { FaultConfig } from "./faults.ts";
export { DEFAULT_FAULTS } from "./faults.ts";
export type { RequestLogEntry } from "./request-log.ts";
export type { DeliveryRecord } from "./webhook-delivery.ts";
export { signatureHeader } from "./webhook-delivery.ts";
export { REMOTE_STORAGE_NAME, REMOTE_BUCKET } from "./copy-routes.ts";
export { ACCEPT_V07 } from "./auth.ts";

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Generated files, default 0. */
  files?: number;
  /** Seed for keys, files and fault draws, default 42. */
  seed?: number;
  faults?: Partial<FaultConfig>;
  /** Base clock, default real time; `advanceClock` moves the sandbox clock ahead of it. */
  now?: () => Date;
  /** true (default): Simple auth works over http://; false: Uploadcare's 400. */
  simpleAuthOverHttp?: boolean;
  /**
   * Generated files are uploaded up to this time (ms since the epoch) instead of
   * "now" at start: with the same seed, the same history at every start.
   */
  epochMs?: number;
  /** Origin of the files' `url` field, when it must not change with the port (default: the sandbox's own). */
  fileUrlBase?: string;
  /**
   * Keep the state here (JSON): read at start when it matches the seed, file
   * count and epoch, rewritten after every change. Without it the state lives
   * and dies with the process.
   */
  stateFile?: string;
}

export interface SimulatedUpload {
  count?: number;
  /** Default true: the project has autostore on. */
  stored?: boolean;
  mimeType?: string;
  size?: number;
  originalFilename?: string;
  metadata?: Record<string, string>;
  appdata?: Record<string, unknown>;
  /** ISO 8601; all files of the call share it (a run of equal upload times). */
  datetimeUploaded?: string;
  isReady?: boolean;
}

export interface Sandbox {
  /** Origin of both APIs, e.g. "http://127.0.0.1:4010", without a trailing slash. */
  url: string;
  publicKey: string;
  secretKey: string;
  projectApiToken: string;
  /** A generated signing secret to pass as `signing_secret` when subscribing webhooks. */
  webhookSecret: string;
  /** Integer project id, as in webhook objects. */
  projectId: number;
  /** Waits for every pending webhook delivery (including retries) to finish. */
  settle(): Promise<void>;
  /** Current sandbox time. */
  now(): Date;
  /** Moves the sandbox clock forward (unstored files expire 24 h after upload). */
  advanceClock(seconds: number): void;
  /** Simulates uploads (fires file.uploaded, and file.stored when stored); returns the new uuids. */
  upload(upload?: SimulatedUpload): string[];
  setFaults(faults: Partial<FaultConfig>): void;
  resetFaults(): void;
  /** Requests served on the Uploadcare surfaces with seq > since, oldest first. */
  requests(since?: number): RequestLogEntry[];
  /** Webhook delivery attempts with seq > since, oldest first. */
  deliveries(since?: number): DeliveryRecord[];
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const seed = options.seed ?? 42;
  const files = options.files ?? 0;
  const epochUs = options.epochMs !== undefined ? options.epochMs * 1000 : undefined;
  const identity = epochUs !== undefined ? { seed, files, epochUs } : undefined;
  if (options.stateFile && !identity) throw new Error("stateFile needs epochMs: a state is only valid for the history it was made on");
  const state = options.stateFile && identity ? readState(options.stateFile, identity) : undefined;
  const ctx = createContext({
    seed,
    files,
    now: options.now,
    faults: options.faults,
    simpleAuthOverHttp: options.simpleAuthOverHttp ?? true,
    epochMs: options.epochMs,
    state,
  });
  const persister = options.stateFile && identity ? new StatePersister(ctx, options.stateFile, identity) : undefined;
  const app = createApp(ctx);
  const host = options.host ?? "127.0.0.1";
  const fetch: typeof app.fetch = async (request, ...rest) => {
    const response = await app.fetch(request, ...rest);
    persister?.afterRequest(request.method !== "GET" && request.method !== "HEAD");
    return response;
  };
  const server = serve({ fetch, port: options.port ?? 0, hostname: host }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  ctx.baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  ctx.files.apiBase = options.fileUrlBase?.replace(/\/+$/, "") ?? ctx.baseUrl;
  // Expiries due since the last save, and a first file for a new state.
  ctx.lifecycle.tick();
  persister?.save();
  return handle(ctx, server, persister);
}

function handle(ctx: SandboxContext, server: Server, persister: StatePersister | undefined): Sandbox {
  let closed: Promise<void> | null = null;
  return {
    url: ctx.baseUrl,
    publicKey: ctx.keys.publicKey,
    secretKey: ctx.keys.secretKey,
    projectApiToken: ctx.keys.projectApiToken,
    webhookSecret: ctx.keys.webhookSecret,
    projectId: ctx.keys.projectId,
    settle: () => ctx.delivery.settle(),
    now: () => new Date(ctx.clock.nowMs()),
    advanceClock: (seconds) => {
      ctx.clock.advance(seconds);
      ctx.lifecycle.tick();
      persister?.save();
    },
    upload: (u = {}) => {
      ctx.lifecycle.tick();
      const spec: UploadSpec = {
        stored: u.stored ?? true,
        mimeType: u.mimeType,
        size: u.size,
        filename: u.originalFilename,
        metadata: u.metadata,
        appdata: u.appdata,
        isReady: u.isReady,
      };
      if (u.datetimeUploaded !== undefined) {
        const us = parseIsoMicros(u.datetimeUploaded);
        if (us === null) throw new Error(`invalid datetimeUploaded: ${u.datetimeUploaded}`);
        spec.uploadedUs = us;
      }
      const initiator = { type: "api" as const, detail: { request_id: ctx.newRequestId(), addon_name: null, source_file_uuid: null } };
      const uuids = ctx.lifecycle.upload(spec, u.count ?? 1, initiator).map((i) => ctx.table.uuidOf(i));
      persister?.save();
      return uuids;
    },
    setFaults: (faults) => ctx.faults.update(faults),
    resetFaults: () => ctx.faults.reset(),
    requests: (since = 0) => ctx.log.list(since),
    deliveries: (since = 0) => ctx.delivery.list(since),
    close: () => {
      closed ??= (async () => {
        await ctx.delivery.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        persister?.save();
      })();
      return closed;
    },
  };
}
