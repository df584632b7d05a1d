import { sql } from "drizzle-orm";
import { createAccessLog, type AccessLog } from "../../src/api/access-log.ts";
import { createApp, type ApiDeps, type App } from "../../src/api/app.ts";
import { appendEvents, type NewEvent } from "../../src/db/audit/chain.ts";
import type { Db } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import type { TokenRole } from "../../src/db/schema/index.ts";
import { silentLogger } from "../../src/logger.ts";
import type { TestDatabase } from "../support/db.ts";

export interface ApiHarness {
  app: App;
  accessLog: AccessLog;
  tokens: Record<TokenRole, string>;
  /** Request as a role (default admin); `role: null` sends no token. */
  call(path: string, init?: RequestInit & { role?: TokenRole | null }): Promise<Response>;
  json<T = unknown>(path: string, init?: RequestInit & { role?: TokenRole | null }): Promise<{ status: number; body: T; res: Response }>;
}

let tokenSerial = 0;

/** An app on the test database with one live token per role. */
export async function apiHarness(database: TestDatabase, extra: Partial<ApiDeps> = {}): Promise<ApiHarness> {
  const accessLog = extra.accessLog ?? createAccessLog({ db: database.db, logger: silentLogger });
  const app = createApp({ database, logger: silentLogger, version: "test", projects: [], accessLog, ...extra });
  const tokens = {} as Record<TokenRole, string>;
  for (const role of ["viewer", "operator", "admin"] as const) {
    tokenSerial += 1;
    tokens[role] = (await createToken(database.db, { name: `t-${role}-${process.pid}-${tokenSerial}`, role, createdBy: "test", now: new Date() })).token;
  }
  const call = async (path: string, init: RequestInit & { role?: TokenRole | null } = {}): Promise<Response> => {
    const { role = "admin", ...rest } = init;
    const headers = new Headers(rest.headers);
    if (role !== null && !headers.has("authorization")) headers.set("Authorization", `Bearer ${tokens[role]}`);
    return app.request(path, { ...rest, headers });
  };
  return {
    app,
    accessLog,
    tokens,
    call,
    async json<T>(path: string, init?: RequestInit & { role?: TokenRole | null }) {
      const res = await call(path, init);
      return { status: res.status, body: (await res.json()) as T, res };
    },
  };
}

export interface FileSeed {
  projectKey: string;
  uuid: string;
  uploaded: string;
  size?: number;
  mimeType?: string;
  filename?: string;
  stored?: string | null;
  removed?: string | null;
  missingSince?: string | null;
  metadata?: Record<string, string>;
  appdata?: Record<string, unknown> | null;
}

/** Inserts file rows directly (no audit events), for listing tests. */
export async function insertFiles(db: Db, files: FileSeed[]): Promise<void> {
  for (const projectKey of new Set(files.map((f) => f.projectKey))) {
    await db.execute(sql`insert into projects (project_key, name) values (${projectKey}, ${projectKey}) on conflict do nothing`);
  }
  const rows = files.map((f) => ({
    project_key: f.projectKey,
    uuid: f.uuid,
    datetime_uploaded: f.uploaded,
    datetime_stored: f.stored ?? null,
    datetime_removed: f.removed ?? null,
    size: f.size ?? 1000,
    mime_type: f.mimeType ?? "image/png",
    is_image: (f.mimeType ?? "image/png").startsWith("image/"),
    is_ready: true,
    original_filename: f.filename ?? `${f.uuid}.png`,
    original_file_url: null,
    metadata: f.metadata ?? {},
    appdata: f.appdata ?? null,
    data: { uuid: f.uuid, size: f.size ?? 1000 },
    missing_since: f.missingSince ?? null,
    missed_scans: f.missingSince ? 2 : 0,
    first_seen_at: f.uploaded,
    updated_at: f.uploaded,
  }));
  for (let i = 0; i < rows.length; i += 2000) {
    await db.execute(sql`insert into files select * from jsonb_populate_recordset(null::files, ${JSON.stringify(rows.slice(i, i + 2000))}::jsonb)`);
  }
}

/** A uuid from a number, distinct per project prefix. */
export function uuidOf(n: number, prefix = 0): string {
  return `${String(prefix).padStart(8, "0")}-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

export function event(fileUuid: string | null, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    fileUuid,
    kind: "uploaded",
    before: null,
    after: { note: "ünïcødé, \"quoted\"\nline" },
    occurredAt: null,
    observedAt: "2026-01-01T00:00:00.000001Z",
    source: "sync",
    runId: null,
    planId: null,
    actor: "ucledger:sync",
    ...overrides,
  };
}

export async function appendTo(db: Db, projectKey: string, events: NewEvent[]): Promise<void> {
  await registerProjects(db, [{ projectKey, name: projectKey, isDemo: false }]);
  await db.transaction((tx) => appendEvents(tx, projectKey, events));
}

export { parseCsv } from "../support/csv.ts";

export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}
