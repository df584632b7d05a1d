import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import type { PolicyAction } from "../../src/db/schema/index.ts";
import {
  DEFAULT_DECISION_SETTINGS,
  DEFAULT_PROTECTION_SETTINGS,
  requiredApprovals,
  resolvePlanOptions,
  shouldHalt,
  type PlanOptionsInput,
  type ProtectionSettings,
} from "../../src/decisions/options.ts";
import { compileProtection, isDestructive } from "../../src/decisions/protection.ts";
import { POLICY_TEMPLATES, findTemplate } from "../../src/decisions/templates.ts";
import { resolvePolicyCreate } from "../../src/decisions/manage-policies.ts";
import { ValidationError } from "../../src/errors.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const HOLD = 'hold: metadata ucledger_hold = "true"';
const RECENT = "recent: uploaded less than 1 h before the check";

describe("plan options", () => {
  it("fills in the defaults: hold key ucledger_hold=true, one hour of recent uploads, 72 h to approve, halt over 10% after 20", () => {
    expect(resolvePlanOptions(undefined)).toEqual({
      holdKey: "ucledger_hold",
      holdValue: "true",
      extraHoldKeys: [],
      recentUploadHours: 1,
      expiresInHours: 72,
      haltFailureRate: 0.1,
      haltMinAttempted: 20,
      twoApproversAboveFiles: 1_000,
      twoApproversAboveBytes: 10 * 1024 ** 3,
    });
  });

  it.each<[string, PlanOptionsInput, number, number]>([
    ["the deployment's limits by default", {}, 1_000, 10 * 1024 ** 3],
    ["stricter limits from the plan", { twoApproversAboveFiles: 10, twoApproversAboveBytes: 100 }, 10, 100],
    ["never looser than the deployment's", { twoApproversAboveFiles: 1_000_000, twoApproversAboveBytes: 1e15 }, 1_000, 10 * 1024 ** 3],
  ])("takes %s for two approvers", (_name, input, files, bytes) => {
    const options = resolvePlanOptions(input, DEFAULT_DECISION_SETTINGS);
    expect([options.twoApproversAboveFiles, options.twoApproversAboveBytes]).toEqual([files, bytes]);
  });

  it.each<[number, number, number]>([
    [1_000, 0, 1],
    [1_001, 0, 2],
    [5, 10 * 1024 ** 3, 1],
    [5, 10 * 1024 ** 3 + 1, 2],
  ])("asks %d files of %d bytes for %d approval(s)", (files, bytes, expected) => {
    expect(requiredApprovals(resolvePlanOptions({}), files, bytes)).toBe(expected);
  });

  it.each<[number, number, boolean]>([
    [10, 9, false], // 19 attempted: below the minimum of 20
    [18, 2, false], // exactly 10% is not over
    [17, 3, true],
    [0, 20, true],
    [1_000, 100, false],
    [1_000, 112, true],
  ])("with %d done and %d failed, halts: %s", (done, failed, halts) => {
    expect(shouldHalt(resolvePlanOptions({}), done, failed)).toBe(halts);
  });
});

interface Probe {
  uploaded: string;
  metadata?: Record<string, string>;
  missingSince?: string | null;
}

describe.each(backends)("protection rules on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function reason(action: PolicyAction, probe: Probe, input: PlanOptionsInput = {}, deployment: Partial<ProtectionSettings> = {}): Promise<string | null> {
    const row = { datetime_uploaded: probe.uploaded, metadata: probe.metadata ?? {}, missing_since: probe.missingSince ?? null };
    const [result] = await queryRows<{ reason: string | null }>(
      database.db,
      sql`select ${compileProtection(action, resolvePlanOptions(input, DEFAULT_DECISION_SETTINGS, { ...DEFAULT_PROTECTION_SETTINGS, ...deployment }), NOW)} as reason
          from jsonb_to_recordset(${JSON.stringify([row])}::jsonb) as f(datetime_uploaded timestamptz, metadata jsonb, missing_since timestamptz)`,
    );
    return result!.reason;
  }

  const OLD = "2026-02-01T00:00:00Z";
  it.each<[string, PolicyAction, Probe, PlanOptionsInput, string | null, Partial<ProtectionSettings>?]>([
    ["an old file without hold", "delete", { uploaded: OLD }, {}, null],
    ["the hold key", "delete", { uploaded: OLD, metadata: { ucledger_hold: "true" } }, {}, HOLD],
    ["the hold key in other case", "archive", { uploaded: OLD, metadata: { ucledger_hold: "TRUE" } }, {}, HOLD],
    ["the hold key with another value", "delete", { uploaded: OLD, metadata: { ucledger_hold: "false" } }, {}, null],
    ["the hold key on a store", "store", { uploaded: OLD, metadata: { ucledger_hold: "true" } }, {}, null],
    ["a deployment's own hold key", "delete", { uploaded: OLD, metadata: { legal: "yes" } }, {}, 'hold: metadata legal = "yes"', { holdKey: "legal", holdValue: "yes" }],
    ["the default key once the deployment has another", "delete", { uploaded: OLD, metadata: { ucledger_hold: "true" } }, {}, null, { holdKey: "legal" }],
    ["a plan's extra hold key", "archive", { uploaded: OLD, metadata: { gdpr: "True" } }, { extraHoldKeys: ["gdpr"] }, 'hold: metadata gdpr = "true"'],
    ["the deployment's key besides a plan's extra ones", "delete", { uploaded: OLD, metadata: { ucledger_hold: "true" } }, { extraHoldKeys: ["gdpr"] }, HOLD],
    ["the deployment's key repeated by the plan", "delete", { uploaded: OLD, metadata: { ucledger_hold: "true" } }, { holdKey: "ucledger_hold", holdValue: "TRUE" }, HOLD],
    ["an upload 59 minutes ago", "delete", { uploaded: "2026-03-01T11:01:00Z" }, {}, RECENT],
    ["an upload exactly an hour ago", "delete", { uploaded: "2026-03-01T11:00:00Z" }, {}, null],
    ["a recent upload being stored", "store", { uploaded: "2026-03-01T11:59:00Z" }, {}, null],
    ["a longer recent window", "archive", { uploaded: "2026-03-01T06:00:00Z" }, { recentUploadHours: 12 }, "recent: uploaded less than 12 h before the check"],
    ["no recent window at all in the deployment", "delete", { uploaded: "2026-03-01T11:59:00Z" }, {}, null, { recentUploadHours: 0 }],
    ["hold before recent", "delete", { uploaded: "2026-03-01T11:59:00Z", metadata: { ucledger_hold: "true" } }, {}, HOLD],
    ["a file no longer listed", "store", { uploaded: OLD, missingSince: "2026-02-10T00:00:00Z" }, {}, "missing: not listed by Uploadcare since 2026-02-10T00:00:00Z"],
  ])("judges %s", async (_name, action, probe, input, expected, deployment) => {
    expect(await reason(action, probe, input, deployment)).toBe(expected);
  });

  it("treats only delete and archive as destructive", () => {
    expect([isDestructive("delete"), isDestructive("archive"), isDestructive("store")]).toEqual([true, true, false]);
  });
});

describe("templates", () => {
  it.each([
    ["store-matching-unstored", { metadataKey: "keep", metadataValue: "yes" }, "store", 3],
    ["store-matching-unstored", { mime: "image/*,application/pdf" }, "store", 3],
    ["delete-infected", {}, "delete", 1],
    ["delete-unstored-older-than", { hours: "12" }, "delete", 2],
    ["delete-old-with-metadata", { days: 30, metadataKey: "tmp", metadataValue: "1" }, "delete", 2],
    ["archive-older-than", { days: "90", target: "cold-bucket" }, "archive", 1],
    ["delete-orphans", { days: "30" }, "delete", 1],
    ["delete-orphans", { days: 90, graceDays: 14 }, "delete", 1],
  ])("builds %s into a valid policy", (template, params, action, conditions) => {
    const policy = resolvePolicyCreate({ name: "t", template, params });
    expect(policy.action).toBe(action);
    expect(policy.conditions).toHaveLength(conditions);
  });

  it("keeps temporary files from the 24-hour expiry window only", () => {
    const policy = resolvePolicyCreate({ name: "t", template: "store-matching-unstored", params: { metadataKey: "keep" } });
    expect(policy.conditions).toEqual([
      { kind: "state", in: ["unstored"] },
      { kind: "age", newerThanHours: 24 },
      { kind: "metadata", key: "keep", op: "exists" },
    ]);
  });

  it.each([
    ["delete-unstored-older-than", {}, /params\.hours: /],
    ["delete-unstored-older-than", { hours: "-3" }, /params\.hours: must be more than 0/],
    ["store-matching-unstored", {}, /needs metadataKey or mime/],
    ["delete-infected", { extra: 1 }, /params/],
    ["delete-orphans", { days: "0" }, /params\.days: must be more than 0/],
    ["no-such-template", {}, /template: no template "no-such-template"/],
  ])("refuses %s with bad parameters %j", (template, params, message) => {
    expect(() => resolvePolicyCreate({ name: "t", template, params: params as Record<string, string> })).toThrow(ValidationError);
    expect(() => resolvePolicyCreate({ name: "t", template, params: params as Record<string, string> })).toThrow(message);
  });

  it("lists every template with a summary and its parameters", () => {
    expect(POLICY_TEMPLATES.map((t) => t.id)).toEqual(["store-matching-unstored", "delete-infected", "delete-unstored-older-than", "delete-old-with-metadata", "archive-older-than", "delete-orphans"]);
    expect(findTemplate("delete-infected").params).toEqual({});
  });
});
