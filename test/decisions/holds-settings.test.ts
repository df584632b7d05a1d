// First: the API modules extend zod with OpenAPI metadata before the decisions' schemas load.
import { apiHarness, type ApiHarness, type ErrorBody } from "../api/helpers.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv, PROTECTION_DEFAULTS } from "../../src/env.ts";
import { ConfigError, ValidationError } from "../../src/errors.ts";
import { queryRows } from "../../src/db/query.ts";
import type { PlanRecord } from "../../src/db/queries/plans.ts";
import { startApply } from "../../src/decisions/apply.ts";
import { inProcessPlanLock } from "../../src/decisions/lock.ts";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import { DEFAULT_DECISION_SETTINGS, resolvePlanOptions, type PlanOptionsInput, type ProtectionSettings } from "../../src/decisions/options.ts";
import type { PolicyCreate } from "../../src/decisions/policy.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { approvePlan } from "../../src/decisions/review.ts";
import { runCli } from "../support/cli.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles } from "../support/uploadcare.ts";
import { applyDeps, batchRequests, scene, uploadOld, type Scene } from "./helpers.ts";

/** Every option that would loosen the built-in protection, and the name the refusal must carry. */
const LOOSENING: [string, PlanOptionsInput][] = [
  ["options.holdKey", { holdKey: "another_key" }],
  ["options.holdValue", { holdValue: "yes" }],
  ["options.recentUploadHours", { recentUploadHours: 0 }],
  ["options.haltFailureRate", { haltFailureRate: 1 }],
  ["options.haltMinAttempted", { haltMinAttempted: 1_000 }],
];
const ALL_LOOSENING: PlanOptionsInput = Object.assign({}, ...LOOSENING.map(([, o]) => o));

describe("protection settings from the environment", () => {
  it("defaults to ucledger_hold=true, one hour of recent uploads, halting over 10% after 20", () => {
    expect(parseEnv({}).protection).toEqual({ holdKey: "ucledger_hold", holdValue: "true", recentUploadHours: 1, haltFailureRate: 0.1, haltMinAttempted: 20 });
    expect(PROTECTION_DEFAULTS).toEqual(parseEnv({}).protection);
  });

  it("reads UCLEDGER_HOLD_KEY, _HOLD_VALUE, _RECENT_UPLOAD_HOURS, _HALT_FAILURE_RATE and _HALT_MIN_ATTEMPTED", () => {
    const env = parseEnv({
      UCLEDGER_HOLD_KEY: "legal_hold",
      UCLEDGER_HOLD_VALUE: "yes",
      UCLEDGER_RECENT_UPLOAD_HOURS: "48",
      UCLEDGER_HALT_FAILURE_RATE: "0.02",
      UCLEDGER_HALT_MIN_ATTEMPTED: "5",
    });
    expect(env.protection).toEqual({ holdKey: "legal_hold", holdValue: "yes", recentUploadHours: 48, haltFailureRate: 0.02, haltMinAttempted: 5 });
  });

  it.each([
    ["UCLEDGER_HOLD_KEY", "secret key!"],
    ["UCLEDGER_RECENT_UPLOAD_HOURS", "-1"],
    ["UCLEDGER_RECENT_UPLOAD_HOURS", "9000"],
    ["UCLEDGER_HALT_FAILURE_RATE", "1.5"],
    ["UCLEDGER_HALT_MIN_ATTEMPTED", "-7"],
  ])("refuses a bad %s, naming it without echoing the value", (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`^${name}: `));
    try {
      parseEnv({ [name]: value });
    } catch (err) {
      expect((err as Error).message).not.toContain(value);
    }
  });
});

describe("plan options against the deployment's protection", () => {
  it.each(LOOSENING)("refuses %s when it loosens the deployment's (400 naming it)", (name, input) => {
    expect(() => resolvePlanOptions(input)).toThrow(ValidationError);
    expect(() => resolvePlanOptions(input)).toThrow(name);
  });

  it("names every loosening option at once", () => {
    let message = "";
    try {
      resolvePlanOptions(ALL_LOOSENING);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const [name] of LOOSENING) expect(message).toContain(`${name}:`);
  });

  it("takes options that only tighten: extra hold keys, a wider window, halting sooner, the deployment's own key repeated", () => {
    const options = resolvePlanOptions({ holdKey: "ucledger_hold", holdValue: "TRUE", extraHoldKeys: ["gdpr", "gdpr", "ucledger_hold"], recentUploadHours: 72, haltFailureRate: 0, haltMinAttempted: 1 });
    expect(options).toMatchObject({ holdKey: "ucledger_hold", holdValue: "true", extraHoldKeys: ["gdpr"], recentUploadHours: 72, haltFailureRate: 0, haltMinAttempted: 1 });
  });

  it("measures against the deployment's settings, and freezes them when the plan says nothing", () => {
    const strict: ProtectionSettings = { holdKey: "legal", holdValue: "on", recentUploadHours: 24, haltFailureRate: 0.01, haltMinAttempted: 5 };
    expect(() => resolvePlanOptions({ recentUploadHours: 12 }, DEFAULT_DECISION_SETTINGS, strict)).toThrow("options.recentUploadHours: must be at least 24");
    expect(() => resolvePlanOptions({ haltFailureRate: 0.1 }, DEFAULT_DECISION_SETTINGS, strict)).toThrow("options.haltFailureRate: must be at most 0.01");
    expect(() => resolvePlanOptions({ holdKey: "ucledger_hold" }, DEFAULT_DECISION_SETTINGS, strict)).toThrow('options.holdKey: must be this deployment\'s hold key "legal"');
    expect(resolvePlanOptions(undefined, DEFAULT_DECISION_SETTINGS, strict)).toMatchObject({ ...strict, extraHoldKeys: [] });
  });
});

describe.each(backends)("held files on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  let api: ApiHarness;
  let plain: string[];
  let held: string[];
  let heldOtherCase: string[];
  let gdpr: string[];
  let others: string[];
  let serial = 0;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 0, seed: 61 });
    plain = uploadOld(s.sandbox, 6, { metadata: { group: "h" } });
    held = uploadOld(s.sandbox, 3, { metadata: { group: "h", ucledger_hold: "true" } });
    heldOtherCase = uploadOld(s.sandbox, 1, { metadata: { group: "h", ucledger_hold: "True" } });
    gdpr = uploadOld(s.sandbox, 2, { metadata: { group: "h", gdpr: "true" } });
    // Outside every policy but the match-all one: no policy below matches every live file by accident.
    others = uploadOld(s.sandbox, 1, { metadata: { group: "other" } });
    await s.sync();
    api = await apiHarness(database, { decisions: { clientFor: () => s.client, lock: inProcessPlanLock() } });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const deps = () => ({ db: database.db, now: () => new Date() });

  async function policy(body: Omit<PolicyCreate, "name">): Promise<string> {
    serial += 1;
    const created = await createPolicy(deps(), { projectKey: s.sandbox.publicKey, body: { name: `held ${serial}`, ...body } as PolicyCreate, actor: "test:author" });
    return created.id;
  }

  async function approve(plan: PlanRecord): Promise<PlanRecord> {
    let current = plan;
    for (const approver of ["test:approver-1", "test:approver-2", "test:approver-3"]) {
      if (current.status !== "proposed") break;
      current = await approvePlan(deps(), { planId: plan.id, projectKeys: [plan.projectKey], approver, reason: "reviewed in test" });
    }
    expect(current.status).toBe("approved");
    return current;
  }

  async function targets(planId: string): Promise<Map<string, { status: string; reason: string | null }>> {
    const rows = await queryRows<{ file_uuid: string; status: string; reason: string | null }>(
      database.db,
      sql`select file_uuid::text as file_uuid, status, reason from plan_items where plan_id = ${planId}::uuid`,
    );
    return new Map(rows.map((r) => [r.file_uuid, r]));
  }

  it("answers 400 naming each loosening option through the API, dry run or not, and stores no plan", async () => {
    const id = await policy({ action: "delete", conditions: [{ kind: "metadata", key: "group", op: "equals", value: "h" }] });
    const before = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from plans`);
    for (const [name, options] of [...LOOSENING, ["every one", ALL_LOOSENING] as [string, PlanOptionsInput]]) {
      for (const dryRun of [true, false]) {
        const res = await api.json<ErrorBody>("/v1/plans", { ...post({ policy: id, options, dryRun }), role: "operator" });
        expect(res.status, `${name}, dryRun ${dryRun}`).toBe(400);
        expect(res.body.error.code).toBe("BAD_REQUEST");
        const named = name === "every one" ? LOOSENING.map(([n]) => n) : [name];
        for (const n of named) expect(res.body.error.message).toContain(`${n}:`);
      }
    }
    const after = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from plans`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it("never puts a held file in a plan's targets: written-out and match-all policies, archives, templates, extra hold keys", async () => {
    const everyHeld = [...held, ...heldOtherCase];
    const cases: { body: Omit<PolicyCreate, "name">; options?: PlanOptionsInput; extraHeld?: string[]; alsoPending?: number }[] = [
      { body: { action: "delete", conditions: [{ kind: "metadata", key: "group", op: "equals", value: "h" }] } },
      { body: { action: "delete", conditions: [], allowMatchAll: true }, alsoPending: others.length },
      { body: { action: "archive", conditions: [{ kind: "metadata", key: "group", op: "equals", value: "h" }], archive: { target: "sandbox-archive" } } },
      { body: { action: "delete", conditions: [{ kind: "metadata", key: "group", op: "equals", value: "h" }] }, options: { extraHoldKeys: ["gdpr"], recentUploadHours: 48 }, extraHeld: gdpr },
      { body: { template: "delete-old-with-metadata", params: { days: 1, metadataKey: "group", metadataValue: "h" } } },
    ];
    for (const c of cases) {
      const plan = await proposePlan(deps(), { projectKeys: [s.sandbox.publicKey], policy: await policy(c.body), options: c.options, actor: "test:proposer" });
      const items = await targets(plan.id);
      for (const uuid of [...everyHeld, ...(c.extraHeld ?? [])]) {
        expect(items.get(uuid)?.status, JSON.stringify(c.body)).toBe("excluded");
        expect(items.get(uuid)?.reason).toMatch(/^hold: metadata (ucledger_hold|gdpr) = "true"$/);
      }
      expect([...items.values()].filter((i) => i.status === "pending").length).toBe(plain.length + (c.extraHeld ? 0 : gdpr.length) + (c.alsoPending ?? 0));
    }
    // A template aimed at the hold key itself finds nothing it may touch (its condition is case-sensitive: "True" is not matched, but held all the same).
    const aimed = await policy({ template: "delete-old-with-metadata", params: { days: 1, metadataKey: "ucledger_hold", metadataValue: "true" } });
    await expect(proposePlan(deps(), { projectKeys: [s.sandbox.publicKey], policy: aimed, actor: "test:proposer" })).rejects.toThrow(/matches no file it could delete \(3 matched but are protected\)/);
  });

  it("applies a plan without ever sending a held file, and the held files stay live", async () => {
    const plan = await approve(
      await proposePlan(deps(), {
        projectKeys: [s.sandbox.publicKey],
        policy: await policy({ action: "delete", conditions: [{ kind: "metadata", key: "group", op: "equals", value: "h" }] }),
        actor: "test:proposer",
      }),
    );
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await (await startApply(applyDeps(s), { planId: plan.id, projectKeys: [plan.projectKey], actor: "test:operator" })).run();
    expect(summary).toMatchObject({ status: "applied", done: plain.length + gdpr.length, failed: 0 });
    const sent = batchRequests(s.sandbox, "DELETE", since).flat();
    for (const uuid of [...held, ...heldOtherCase]) expect(sent).not.toContain(uuid);
    const upstream = await allSandboxFiles(s.sandbox);
    for (const uuid of [...held, ...heldOtherCase]) expect(upstream.get(uuid)?.datetime_removed).toBeNull();
    for (const uuid of plain) expect(upstream.get(uuid)?.datetime_removed).not.toBeNull();
  });

  it("refuses to apply a stored plan whose options are looser than the deployment's now (409 naming them)", async () => {
    const files = uploadOld(s.sandbox, 2, { metadata: { group: "loose" } });
    await s.sync();
    const id = await policy({ action: "delete", conditions: [{ kind: "metadata", key: "group", op: "equals", value: "loose" }] });
    const plan = await approve(await proposePlan(deps(), { projectKeys: [s.sandbox.publicKey], policy: id, actor: "test:proposer" }));
    // As an older version could have stored it: its own hold key, no recent window.
    await database.db.execute(sql`update plans set options = options || ${JSON.stringify({ holdKey: "another_key", recentUploadHours: 0 })}::jsonb where id = ${plan.id}::uuid`);
    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    await expect(startApply(applyDeps(s), { planId: plan.id, projectKeys: [plan.projectKey], actor: "test:operator" })).rejects.toThrow(
      /looser than this deployment's \(options\.holdKey: .*options\.recentUploadHours: .*\): it cannot be applied/,
    );
    // Settings tightened since the proposal: a plan frozen under the old ones is not applied either.
    await database.db.execute(sql`update plans set options = options || ${JSON.stringify({ holdKey: "ucledger_hold", recentUploadHours: 1 })}::jsonb where id = ${plan.id}::uuid`);
    const stricter: ProtectionSettings = { ...PROTECTION_DEFAULTS, recentUploadHours: 48 };
    await expect(startApply(applyDeps(s, { protection: stricter }), { planId: plan.id, projectKeys: [plan.projectKey], actor: "test:operator" })).rejects.toThrow(
      "options.recentUploadHours: must be at least 48",
    );
    expect(batchRequests(s.sandbox, "DELETE", since)).toEqual([]);
    const [row] = await queryRows<{ status: string }>(database.db, sql`select status from plans where id = ${plan.id}::uuid`);
    expect(row!.status).toBe("approved");
    const upstream = await allSandboxFiles(s.sandbox);
    for (const uuid of files) expect(upstream.get(uuid)?.datetime_removed).toBeNull();
  });

  it("reads the settings at the CLI's entry point: a loosening --option exits 1 naming it, UCLEDGER_* moves the bar", async () => {
    const env: Record<string, string> = {
      UPLOADCARE_PUBLIC_KEY: s.sandbox.publicKey,
      UPLOADCARE_SECRET_KEY: s.sandbox.secretKey,
      UPLOADCARE_API_BASE: s.sandbox.url,
      ...(kind === "postgres" ? { DATABASE_URL: database.url! } : { UCLEDGER_DATA_DIR: mkdtempSync(join(tmpdir(), "ucl-holds-")) }),
    };
    const loose = await runCli(["plan", "propose", "--policy", "no such policy", "--option", "recentUploadHours=0", "--option", "holdKey=mine", "--yes"], env);
    expect(loose.code).toBe(1);
    expect(loose.stderr).toContain("options.holdKey: must be this deployment's hold key \"ucledger_hold\"");
    expect(loose.stderr).toContain("options.recentUploadHours: must be at least 1");

    // The deployment's own settings: the same options are no longer looser, so the next check (the policy) speaks.
    const configured = await runCli(["plan", "propose", "--policy", "no such policy", "--option", "recentUploadHours=0", "--option", "holdKey=mine", "--yes"], {
      ...env,
      UCLEDGER_HOLD_KEY: "mine",
      UCLEDGER_RECENT_UPLOAD_HOURS: "0",
    });
    expect(configured.code).toBe(1);
    expect(configured.stderr).not.toContain("options.");
    expect(configured.stderr).toMatch(/no such policy.*not found/);
  });
});
