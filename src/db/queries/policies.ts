import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { Queryable } from "../client.ts";
import { policies, type PolicyAction, type PolicyRow } from "../schema/index.ts";
import { canonicalTimestampOrNull, dateToTimestamp } from "../timestamps.ts";

export interface PolicyRecord {
  projectKey: string;
  id: string;
  name: string;
  description: string | null;
  action: PolicyAction;
  conditions: Record<string, unknown>[];
  allowMatchAll: boolean;
  archive: Record<string, unknown> | null;
  /** Tag policies: `{ set, remove }`. */
  tag: Record<string, unknown> | null;
  /** Version policies: `{ operations, deleteOriginal }`. */
  versionSpec: Record<string, unknown> | null;
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface PolicyValues {
  name: string;
  description?: string | null | undefined;
  action: PolicyAction;
  conditions: Record<string, unknown>[];
  allowMatchAll?: boolean | undefined;
  archive?: Record<string, unknown> | null | undefined;
  tag?: Record<string, unknown> | null | undefined;
  versionSpec?: Record<string, unknown> | null | undefined;
}

function toRecord(row: PolicyRow): PolicyRecord {
  return {
    projectKey: row.projectKey,
    id: row.id,
    name: row.name,
    description: row.description,
    action: row.action,
    conditions: row.conditions,
    allowMatchAll: row.allowMatchAll,
    archive: row.archive,
    tag: row.tag,
    versionSpec: row.versionSpec,
    version: row.version,
    createdAt: canonicalTimestampOrNull(row.createdAt)!,
    createdBy: row.createdBy,
    updatedAt: canonicalTimestampOrNull(row.updatedAt)!,
    updatedBy: row.updatedBy,
  };
}

function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === "23505") return true;
  }
  return false;
}

export async function insertPolicy(db: Queryable, input: { projectKey: string; values: PolicyValues; actor: string; now: Date }): Promise<PolicyRecord> {
  const now = dateToTimestamp(input.now);
  try {
    const [row] = await db
      .insert(policies)
      .values({
        projectKey: input.projectKey,
        id: randomUUID(),
        name: input.values.name,
        description: input.values.description ?? null,
        action: input.values.action,
        conditions: input.values.conditions,
        allowMatchAll: input.values.allowMatchAll ?? false,
        archive: input.values.archive ?? null,
        tag: input.values.tag ?? null,
        versionSpec: input.values.versionSpec ?? null,
        version: 1,
        createdAt: now,
        createdBy: input.actor,
        updatedAt: now,
        updatedBy: input.actor,
      })
      .returning();
    return toRecord(row!);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`policy ${input.values.name} already exists in project ${input.projectKey}`);
    throw err;
  }
}

/** Live policies of the projects, by project and name. */
export async function listPolicies(db: Queryable, projectKeys: string[]): Promise<PolicyRecord[]> {
  if (projectKeys.length === 0) return [];
  const rows = await db
    .select()
    .from(policies)
    .where(and(inArray(policies.projectKey, projectKeys), isNull(policies.deletedAt)))
    .orderBy(asc(policies.projectKey), asc(policies.name));
  return rows.map(toRecord);
}

/**
 * A live policy by id, or by name within a project. Ids are uuids, so one
 * names one policy; a name needs the project when several have it.
 */
export async function findPolicy(db: Queryable, ref: { idOrName: string; projectKeys: string[] }): Promise<PolicyRecord> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref.idOrName);
  const rows = await db
    .select()
    .from(policies)
    .where(
      and(
        isUuid ? eq(policies.id, ref.idOrName.toLowerCase()) : eq(policies.name, ref.idOrName),
        ref.projectKeys.length > 0 ? inArray(policies.projectKey, ref.projectKeys) : sql`false`,
        isNull(policies.deletedAt),
      ),
    );
  if (rows.length === 0) throw new NotFoundError("policy", ref.idOrName);
  if (rows.length > 1) {
    throw new ConflictError(`policy ${ref.idOrName} is in several projects (${rows.map((r) => r.projectKey).join(", ")}): name the project`);
  }
  return toRecord(rows[0]!);
}

/** Rewrites a live policy and bumps its version; plans already proposed keep the version they froze. */
export async function updatePolicy(
  db: Queryable,
  input: { projectKey: string; id: string; values: PolicyValues; expectedVersion: number; actor: string; now: Date },
): Promise<PolicyRecord> {
  try {
    const rows = await db
      .update(policies)
      .set({
        name: input.values.name,
        description: input.values.description ?? null,
        conditions: input.values.conditions,
        allowMatchAll: input.values.allowMatchAll ?? false,
        archive: input.values.archive ?? null,
        tag: input.values.tag ?? null,
        versionSpec: input.values.versionSpec ?? null,
        version: sql`${policies.version} + 1`,
        updatedAt: dateToTimestamp(input.now),
        updatedBy: input.actor,
      })
      .where(
        and(
          eq(policies.projectKey, input.projectKey),
          eq(policies.id, input.id),
          eq(policies.version, input.expectedVersion),
          isNull(policies.deletedAt),
        ),
      )
      .returning();
    if (!rows[0]) throw new ConflictError(`policy ${input.id} changed or was deleted meanwhile: read it again`);
    return toRecord(rows[0]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`policy ${input.values.name} already exists in project ${input.projectKey}`);
    throw err;
  }
}

/** Soft delete: plans keep their reference, and the name is free again. */
export async function deletePolicy(db: Queryable, input: { projectKey: string; id: string; actor: string; now: Date }): Promise<PolicyRecord> {
  const now = dateToTimestamp(input.now);
  const rows = await db
    .update(policies)
    .set({ deletedAt: now, updatedAt: now, updatedBy: input.actor })
    .where(and(eq(policies.projectKey, input.projectKey), eq(policies.id, input.id), isNull(policies.deletedAt)))
    .returning();
  if (!rows[0]) throw new NotFoundError("policy", input.id);
  return toRecord(rows[0]);
}
