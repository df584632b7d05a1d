import { sql } from "drizzle-orm";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/index.ts";
import type { Db } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { UploadcareClient } from "../../src/sync/uploadcare/client.ts";
import { createUploadcareClient } from "../../src/sync/uploadcare/create-client.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../../src/sync/uploadcare/retry-policy.ts";
import { UploadcareTransport } from "../../src/sync/uploadcare/transport.ts";
import { UploadcareFile } from "../../src/sync/uploadcare/file-object.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";

/** Retries fast enough for tests, still bounded and still honouring Retry-After's floor. */
export const FAST_RETRIES: Partial<RetryPolicy> = { backoffBaseMs: 5, backoffCapMs: 50, throttleFloorMs: 20, maxAttempts: 12, timeoutMs: 10_000 };

export async function sandboxWithProject(db: Db, options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox(options);
  await registerProjects(db, [{ projectKey: sandbox.publicKey, name: "test", isDemo: false }]);
  return sandbox;
}

export function projectOf(sandbox: Sandbox) {
  return {
    publicKey: sandbox.publicKey,
    secretKey: sandbox.secretKey,
    apiBase: sandbox.url,
    projectApiToken: sandbox.projectApiToken,
    webhookSecret: sandbox.webhookSecret,
  };
}

export function clientFor(db: Db, sandbox: Sandbox, policy: Partial<RetryPolicy> = FAST_RETRIES, pageLimit?: number): UploadcareClient {
  return createUploadcareClient({ db, logger: silentLogger, project: projectOf(sandbox), policy, pageLimit });
}

/** Every file the sandbox holds, live and removed, read raw (not recorded anywhere). */
export async function allSandboxFiles(sandbox: Sandbox): Promise<Map<string, UploadcareFile>> {
  const client = new UploadcareClient(
    new UploadcareTransport({ project: projectOf(sandbox), record: async () => {}, policy: { ...DEFAULT_RETRY_POLICY, ...FAST_RETRIES }, logger: silentLogger }),
  );
  const out = new Map<string, UploadcareFile>();
  for (const removed of [false, true]) {
    let cursor: { from?: string; offset?: number } = {};
    for (;;) {
      const page = await client.listFiles({ ...cursor, removed });
      for (const item of page.items) {
        const file = UploadcareFile.parse(item);
        out.set(file.uuid, file);
      }
      if (!page.next) break;
      cursor = page.next;
    }
  }
  return out;
}

export async function ledgerFiles(db: Db, projectKey: string): Promise<Map<string, Record<string, unknown>>> {
  const rows = await queryRows<{ uuid: string; data: Record<string, unknown> }>(
    db,
    sql`select uuid::text as uuid, data from files where project_key = ${projectKey}`,
  );
  return new Map(rows.map((r) => [r.uuid, r.data]));
}

export interface EventRow {
  seq: number;
  file_uuid: string | null;
  kind: string;
  source: string;
  actor: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export async function events(db: Db, projectKey: string, afterSeq = 0): Promise<EventRow[]> {
  return queryRows<EventRow>(
    db,
    sql`select seq, file_uuid::text as file_uuid, kind, source, actor, before, after from file_events
        where project_key = ${projectKey} and seq > ${afterSeq} order by seq`,
  );
}

export async function lastSeq(db: Db, projectKey: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select coalesce(max(seq), 0)::int as n from file_events where project_key = ${projectKey}`);
  return row?.n ?? 0;
}

/** Calls the sandbox's Uploadcare surface with Simple auth, as a user's own app would. */
export async function sandboxApi(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: {
      Accept: "application/vnd.uploadcare-v0.7+json",
      "Content-Type": "application/json",
      Authorization: `Uploadcare.Simple ${sandbox.publicKey}:${sandbox.secretKey}`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
