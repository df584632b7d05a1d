import { sql } from "drizzle-orm";
import type { Sandbox, SandboxOptions } from "../../src/sandbox/index.ts";
import type { Db } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import type { UploadcareClient } from "../../src/sync/uploadcare/client.ts";
import { inProcessPlanLock, type PlanLock } from "../../src/decisions/lock.ts";
import { startApply, type ApplyDeps, type ApplySummary } from "../../src/decisions/apply.ts";
import { approvePlan } from "../../src/decisions/review.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import type { PolicyCreate } from "../../src/decisions/policy.ts";
import type { PlanOptionsInput } from "../../src/decisions/options.ts";
import type { PlanRecord } from "../../src/db/queries/plans.ts";
import { clientFor, sandboxWithProject } from "../support/uploadcare.ts";
import type { TestDatabase } from "../support/db.ts";

/** Ten days ago: old enough that no recent-upload protection applies. */
export const OLD = new Date(Date.now() - 10 * 86_400_000);

/** Uploads `count` files in groups of 50 with distinct old upload times (no tie runs longer than a page). */
export function uploadOld(sandbox: Sandbox, count: number, spec: { metadata?: Record<string, string>; stored?: boolean; ageHours?: number } = {}): string[] {
  const uuids: string[] = [];
  const base = Date.now() - (spec.ageHours ?? 240) * 3_600_000;
  for (let i = 0; i < count; i += 50) {
    const at = new Date(base + i * 1000).toISOString();
    uuids.push(...sandbox.upload({ count: Math.min(50, count - i), stored: spec.stored ?? true, metadata: spec.metadata, datetimeUploaded: at }));
  }
  return uuids;
}

export interface Scene {
  database: TestDatabase;
  sandbox: Sandbox;
  client: UploadcareClient;
  lock: PlanLock;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function scene(database: TestDatabase, options: SandboxOptions = {}): Promise<Scene> {
  const sandbox = await sandboxWithProject(database.db, { files: 200, seed: 11, ...options });
  const client = clientFor(database.db, sandbox);
  return {
    database,
    sandbox,
    client,
    lock: inProcessPlanLock(),
    async sync() {
      await sandbox.settle();
      const runs = await syncFiles({ db: database.db, client, logger: silentLogger, now: () => new Date() }, { full: true });
      const bad = runs.find((r) => r.status !== "ok");
      if (bad) throw new Error(`sync ${bad.lane} ended ${bad.status}: ${bad.error}`);
    },
    close: () => sandbox.close(),
  };
}

export function applyDeps(s: Scene, overrides: Partial<ApplyDeps> = {}): ApplyDeps {
  return { db: s.database.db, client: s.client, logger: silentLogger, now: () => new Date(), lock: s.lock, ...overrides };
}

/** Policy → plan → approvals, as people would do it; answers the approved plan. */
export async function approvedPlan(
  s: Scene,
  policy: PolicyCreate,
  options: { planOptions?: PlanOptionsInput; approvers?: string[] } = {},
): Promise<PlanRecord> {
  const deps = { db: s.database.db, now: () => new Date() };
  const created = await createPolicy(deps, { projectKey: s.sandbox.publicKey, body: policy, actor: "test:author" });
  let plan = await proposePlan(deps, { projectKeys: [s.sandbox.publicKey], policy: created.id, options: options.planOptions, actor: "test:proposer" });
  for (const approver of options.approvers ?? ["test:approver-1", "test:approver-2"].slice(0, plan.requiredApprovals)) {
    plan = await approvePlan(deps, { planId: plan.id, projectKeys: [s.sandbox.publicKey], approver, reason: "reviewed in test" });
  }
  return plan;
}

export async function applyPlan(s: Scene, planId: string, actor = "test:operator", overrides: Partial<ApplyDeps> = {}): Promise<ApplySummary> {
  const started = await startApply(applyDeps(s, overrides), { planId, projectKeys: [s.sandbox.publicKey], actor });
  return started.run();
}

/** Batch store/delete requests the sandbox served, with the uuids each carried. */
export function batchRequests(sandbox: Sandbox, method: "PUT" | "DELETE", since = 0): string[][] {
  return sandbox
    .requests(since)
    .filter((r) => r.method === method && r.path === "/files/storage/")
    .map((r) => r.body as string[]);
}

export async function itemStatuses(db: Db, planId: string): Promise<Map<string, { status: string; reason: string | null }>> {
  const rows = await queryRows<{ file_uuid: string; status: string; reason: string | null }>(
    db,
    sql`select file_uuid::text as file_uuid, status, reason from plan_items where plan_id = ${planId}::uuid`,
  );
  return new Map(rows.map((r) => [r.file_uuid, { status: r.status, reason: r.reason }]));
}

export async function planEvents(db: Db, planId: string): Promise<{ file_uuid: string | null; kind: string; source: string; actor: string; after: Record<string, unknown> | null }[]> {
  return queryRows(db, sql`select file_uuid::text as file_uuid, kind, source, actor, after from file_events where plan_id = ${planId} order by seq`);
}

/** Changes a file at the sandbox without webhooks: "behind the plan's back". */
export async function patchSandboxFile(sandbox: Sandbox, uuid: string, patch: Record<string, unknown>, attempt = 1): Promise<void> {
  // A kept-alive connection the sandbox closed at that moment resets: the PATCH is idempotent, so try once more.
  const res = await fetch(`${sandbox.url}/__sandbox/files/${uuid}`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(patch) }).catch((err: unknown) => {
    if (attempt > 2) throw err;
    return null;
  });
  if (res === null) return patchSandboxFile(sandbox, uuid, patch, attempt + 1);
  if (!res.ok) throw new Error(`PATCH /__sandbox/files/${uuid}: ${res.status} ${await res.text()}`);
}

export async function sandboxFile(sandbox: Sandbox, uuid: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${sandbox.url}/__sandbox/files/${uuid}`);
  if (!res.ok) throw new Error(`GET /__sandbox/files/${uuid}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
