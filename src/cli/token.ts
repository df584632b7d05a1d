import type { Db } from "../db/client.ts";
import { openDatabase } from "../db/client.ts";
import { createToken, listTokens, revokeToken, type TokenInfo } from "../db/queries/tokens.ts";
import type { KeysetPosition } from "../db/queries/keyset.ts";
import { TOKEN_ROLES, type TokenRole } from "../db/schema/index.ts";
import { loadEnv } from "../env.ts";
import { AppError, ConfigError, EXIT_CONFIG } from "../errors.ts";
import { cliActor, parseFlags } from "./runtime.ts";

const USAGE = [
  "usage: ucledger token create --name NAME --role viewer|operator|admin [--json]",
  "       ucledger token list [--all] [--json]",
  "       ucledger token revoke --name NAME",
].join("\n");

export interface TokenIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: TokenIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** `ucledger token …`: needs only the database, not Uploadcare keys or the demo sandbox. */
export async function tokenCommand(argv: string[]): Promise<number> {
  const env = loadEnv();
  const database = await openDatabase({ url: env.databaseUrl, dataDir: env.databaseUrl ? undefined : env.dataDir });
  try {
    return await runTokenCommand({ db: database.db, now: () => new Date(), actor: cliActor(), io: processIo }, argv);
  } finally {
    await database.close();
  }
}

/** The command's body, on an open database (tests call it directly). */
export async function runTokenCommand(deps: { db: Db; now: () => Date; actor: string; io: TokenIo }, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { name: { type: "string" }, role: { type: "string" }, all: { type: "boolean" }, json: { type: "boolean" } },
    "token",
  );
  const [action, ...rest] = positionals;
  if (rest.length > 0 || !action) return usage(deps.io);
  try {
    if (action === "create") {
      if (!values.name || !values.role) return usage(deps.io);
      if (!TOKEN_ROLES.includes(values.role as TokenRole)) throw new ConfigError(`--role: must be one of ${TOKEN_ROLES.join(", ")}`);
      const created = await createToken(deps.db, { name: values.name, role: values.role as TokenRole, createdBy: deps.actor, now: deps.now() });
      if (values.json) {
        deps.io.stdout(`${JSON.stringify({ name: created.name, role: created.role, token: created.token })}\n`);
      } else {
        // The token alone on stdout, so `TOKEN=$(ucledger token create …)` works; the note goes to stderr.
        deps.io.stderr(`created token ${created.name} (role ${created.role}); it is shown this once, store it now:\n`);
        deps.io.stdout(`${created.token}\n`);
      }
      return 0;
    }
    if (action === "list") {
      const tokens = await allTokens(deps.db, values.all ?? false);
      if (values.json) for (const t of tokens) deps.io.stdout(`${JSON.stringify(t)}\n`);
      else if (tokens.length === 0) deps.io.stderr("no tokens\n");
      else for (const t of tokens) deps.io.stdout(`${describe(t)}\n`);
      return 0;
    }
    if (action === "revoke") {
      if (!values.name) return usage(deps.io);
      const revoked = await revokeToken(deps.db, { name: values.name, now: deps.now() });
      deps.io.stdout(`revoked token ${revoked.name} (role ${revoked.role})\n`);
      return 0;
    }
    return usage(deps.io);
  } catch (err) {
    // Conflicts, unknown names and bad names are the user's to fix: one line, exit 1.
    if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
      deps.io.stderr(`ucledger token: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function allTokens(db: Db, includeRevoked: boolean): Promise<TokenInfo[]> {
  const out: TokenInfo[] = [];
  let after: KeysetPosition | null = null;
  do {
    const page = await listTokens(db, { includeRevoked, after, limit: 1000 });
    out.push(...page.items);
    after = page.next;
  } while (after);
  return out;
}

function describe(t: TokenInfo): string {
  const revoked = t.revokedAt ? `  revoked ${t.revokedAt}` : "";
  return `${t.name.padEnd(24)} ${t.role.padEnd(8)} created ${t.createdAt} by ${t.createdBy}${revoked}`;
}

function usage(io: TokenIo): number {
  io.stderr(`${USAGE}\n`);
  return EXIT_CONFIG;
}
