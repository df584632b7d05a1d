import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "./db/client.ts";
import { rotateToken } from "./db/queries/tokens.ts";
import type { Env } from "./env.ts";

/**
 * A running server says where it is in its data directory, so that `ucledger`
 * on the same machine can find it: on embedded PGlite the server holds the
 * data directory, and the CLI then works through the server's API (with the
 * token kept beside it, readable by the data directory's owner only: whoever
 * can read it could read the database files as well). The CLI's links use the
 * URL written here rather than a guess from its own PORT.
 */
export interface ServerFile {
  pid: number;
  /** Where the API answers on this machine. */
  url: string;
  /** Where people reach it (UCLEDGER_PUBLIC_URL, else the real port). */
  publicUrl: string;
}

const SERVER_FILE = "server.json";
const TOKEN_FILE = "cli-token";
/** The token the server keeps for the CLI: rotated at every start, revoked with the next one. */
export const LOCAL_CLI_TOKEN_NAME = "local-cli";

export async function announceServer(input: { env: Env; db: Db; port: number; embedded: boolean; now?: Date }): Promise<{ withdraw(): void }> {
  const { env, port } = input;
  mkdirSync(env.dataDir, { recursive: true });
  // The default public URL names PORT; with PORT=0 the real port is only known now.
  const publicUrl = env.publicUrl === `http://localhost:${env.port}` ? `http://localhost:${port}` : env.publicUrl;
  const file: ServerFile = { pid: process.pid, url: `http://127.0.0.1:${port}`, publicUrl };
  const tokenPath = join(env.dataDir, TOKEN_FILE);
  if (input.embedded) {
    const { token } = await rotateToken(input.db, { name: LOCAL_CLI_TOKEN_NAME, role: "admin", createdBy: "ucledger:server", now: input.now ?? new Date() });
    writeFileSync(tokenPath, `${token}\n`, { mode: 0o600 });
  }
  const serverPath = join(env.dataDir, SERVER_FILE);
  writeFileSync(serverPath, `${JSON.stringify(file, null, 2)}\n`);
  return {
    withdraw() {
      // Only this server's own files: a newer server on the same directory keeps its own.
      if (readServerFile(env.dataDir)?.pid !== process.pid) return;
      for (const path of [serverPath, tokenPath]) {
        try {
          unlinkSync(path);
        } catch {
          // Already gone.
        }
      }
    },
  };
}

/** What the last server on this data directory wrote, if anything readable. */
export function readServerFile(dataDir: string): ServerFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, SERVER_FILE), "utf8")) as Partial<ServerFile>;
    if (typeof parsed.pid === "number" && typeof parsed.url === "string" && typeof parsed.publicUrl === "string") return parsed as ServerFile;
  } catch {
    // None, or half-written by a crash: as good as none.
  }
  return undefined;
}

/** The token the running server keeps for the CLI, if any. */
export function readLocalCliToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, TOKEN_FILE), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
