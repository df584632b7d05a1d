import { dataDirHolder } from "../db/data-dir-lock.ts";
import type { Env } from "../env.ts";
import { AppError, ConfigError, type ErrorCode } from "../errors.ts";
import { readLocalCliToken, readServerFile } from "../server-file.ts";

/**
 * The ucledger server holding this CLI's data directory, when there is one.
 * Embedded PGlite opens in one process only, so while `npm start` runs, the
 * CLI does its work through that server's API instead: same lines printed,
 * same exit codes. On a PostgreSQL server every process opens the database
 * itself, so there the CLI always works directly.
 */
export interface RemoteServer {
  url: string;
  pid: number;
  token: string;
}

export function findRemoteServer(env: Env): RemoteServer | undefined {
  if (env.databaseUrl) return undefined;
  const holder = dataDirHolder(env.dataDir);
  if (holder === undefined) return undefined;
  const file = readServerFile(env.dataDir);
  // Held by something that is not a server (another CLI command): the lock's own error says so.
  if (!file || file.pid !== holder) return undefined;
  const token = env.cliToken ?? readLocalCliToken(env.dataDir);
  if (!token) {
    throw new ConfigError(`UCLEDGER_TOKEN: the ucledger server at ${file.url} (pid ${holder}) holds ${env.dataDir}; set UCLEDGER_TOKEN to one of its tokens to work through it`);
  }
  return { url: file.url, pid: holder, token };
}

/** Where the server that holds (or last held) the data directory is reached, for links; else the configured URL. */
export function linkBase(env: Env): string {
  return readServerFile(env.dataDir)?.publicUrl ?? env.publicUrl;
}

interface Envelope {
  error?: { code?: string; message?: string };
}

async function send(server: RemoteServer, method: string, path: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${server.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ConfigError(`the ucledger server at ${server.url} (pid ${server.pid}) holds the data directory but does not answer (${(err as Error).message})`);
  }
}

/**
 * The server's refusal as the CLI's own: a bad flag (400 from the CLI's routes) or
 * a refused token is a usage error (exit 2); anything else an AppError, which
 * the commands print as `ucledger <command>: message` with exit 1.
 */
async function failure(server: RemoteServer, path: string, res: Response): Promise<Error> {
  let envelope: Envelope = {};
  try {
    envelope = (await res.json()) as Envelope;
  } catch {
    // Not our envelope: the status says enough.
  }
  const message = envelope.error?.message ?? `HTTP ${res.status}`;
  if (res.status === 401 || res.status === 403) return new ConfigError(`UCLEDGER_TOKEN: the server at ${server.url} refused the token: ${message}`);
  if (res.status === 400 && path.startsWith("/v1/cli/")) return new ConfigError(message);
  return new AppError((envelope.error?.code as ErrorCode | undefined) ?? "INTERNAL_SERVER_ERROR", message);
}

/** One JSON call; the body of a 2xx answer, or the refusal thrown. */
export async function remoteJson<T>(server: RemoteServer, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await send(server, method, path, body);
  if (!res.ok) throw await failure(server, path, res);
  return { status: res.status, body: (await res.json()) as T };
}

/** An NDJSON answer, line by line as it arrives. */
export async function* remoteLines<T>(server: RemoteServer, method: string, path: string, body?: unknown): AsyncGenerator<T> {
  const res = await send(server, method, path, body);
  if (!res.ok || !res.body) throw await failure(server, path, res);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, at).trim();
      buffered = buffered.slice(at + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as T;
}
