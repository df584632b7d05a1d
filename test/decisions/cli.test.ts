import { mkdtempSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { approvePlan } from "../../src/decisions/review.ts";
import { silentLogger } from "../../src/logger.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { runCli } from "../support/cli.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { clientFor } from "../support/uploadcare.ts";
import { batchRequests, uploadOld } from "./helpers.ts";

describe.each(backends)("ucledger policy and plan on %s", (kind) => {
  let sandbox: Sandbox | undefined;
  let server: TestDatabase | undefined;
  afterAll(async () => {
    await sandbox?.close();
    await server?.close();
  });

  it("changes nothing until --yes: dry runs show counts, bytes and a sample", async () => {
    sandbox = await startSandbox({ files: 30, seed: 31 });
    const files = uploadOld(sandbox, 8, { metadata: { purge_group: "c1" } });
    uploadOld(sandbox, 1, { metadata: { purge_group: "c1", ucledger_hold: "true" } });
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-plan-cli-"));
    if (kind === "postgres") server = await createTestDatabase("postgres");
    const env: Record<string, string> = {
      UPLOADCARE_PUBLIC_KEY: sandbox.publicKey,
      UPLOADCARE_SECRET_KEY: sandbox.secretKey,
      UPLOADCARE_API_BASE: sandbox.url,
      ...(kind === "postgres" ? { DATABASE_URL: server!.url! } : { UCLEDGER_DATA_DIR: dataDir }),
    };
    const actor = `cli:${userInfo().username}`;

    const templates = await runCli(["policy", "templates"], env);
    expect(templates.code).toBe(0);
    expect(templates.stdout).toContain("delete-infected (delete): Delete files the ClamAV virus scan found infected");

    // Syncing in-process is quicker than a child; the commands under test run as real children.
    let database: Database = kind === "postgres" ? server! : await openDatabase({ dataDir });
    try {
      await registerProjects(database.db, [{ projectKey: sandbox.publicKey, name: "cli", isDemo: false }]);
      await syncFiles({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => new Date() }, { full: true });
    } finally {
      if (kind === "pglite") await database.close();
    }
    const created = await runCli(
      ["policy", "create", "--name", "purge c1", "--template", "delete-old-with-metadata", "--param", "days=1", "--param", "metadataKey=purge_group", "--param", "metadataValue=c1"],
      env,
    );
    expect(created.stderr).toBe("");
    expect(created.stdout).toMatch(/^created policy .* purge c1 \(v1\): delete where uploaded at least 24 h ago; metadata purge_group = "c1"/);

    const dry = await runCli(["plan", "propose", "--policy", "purge c1"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("dry run: policy purge c1 v1 would delete 8 files");
    expect(dry.stdout).toContain('1 × hold: metadata ucledger_hold = "true"');
    for (const uuid of files) expect(dry.stdout).toContain(uuid);
    expect(dry.stdout).toContain("nothing was stored. Add --yes to propose the plan.");

    const proposed = await runCli(["plan", "propose", "--policy", "purge c1", "--yes", "--json"], env);
    expect(proposed.code).toBe(0);
    const plan = JSON.parse(proposed.stdout) as { id: string; status: string; fileCount: number; proposedBy: string };
    expect(plan).toMatchObject({ status: "proposed", fileCount: 8, proposedBy: actor });

    // Four eyes: the proposer is told at the dry run already, and refused with --yes.
    const dryApprove = await runCli(["plan", "approve", plan.id, "--reason", "c1 is done"], env);
    expect(dryApprove.stdout).toContain(`plan ${plan.id} (${sandbox.publicKey}): proposed`);
    expect(dryApprove.stdout).toContain(`approvals 0 of 1, 1 more needed from anyone but ${actor} (proposed it; a proposer cannot approve)`);
    expect(dryApprove.stdout).toContain(`dry run: ${actor} proposed this plan and cannot approve it: someone else must. Nothing was recorded.`);
    const own = await runCli(["plan", "approve", plan.id, "--reason", "c1 is done", "--yes"], env);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain(`ucledger plan: ${actor} proposed plan ${plan.id} and cannot approve it: it needs 1 approval from someone other than the proposer`);

    // Someone else approves (through the API in real life; here in-process as that token's actor).
    database = kind === "postgres" ? server! : await openDatabase({ dataDir });
    try {
      await approvePlan({ db: database.db, now: () => new Date() }, { planId: plan.id, projectKeys: [sandbox.publicKey], approver: "token:cli-reviewer", reason: "c1 is done" });
    } finally {
      if (kind === "pglite") await database.close();
    }
    const approved = await runCli(["plan", "show", plan.id], env);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`plan ${plan.id} (${sandbox.publicKey}): approved`);
    expect(approved.stdout).toContain("approvals 1 of 1\n    token:cli-reviewer at");
    const shownJson = JSON.parse((await runCli(["plan", "show", plan.id, "--json"], env)).stdout) as { approvals: unknown };
    expect(shownJson.approvals).toMatchObject({ required: 1, received: [{ actor: "token:cli-reviewer", reason: "c1 is done" }], stillNeeded: 0, cannotApprove: [actor, "token:cli-reviewer"] });

    const dryApply = await runCli(["plan", "apply", plan.id], env);
    expect(dryApply.code).toBe(0);
    expect(dryApply.stdout).toContain("dry run: would delete up to 8 files");
    expect(batchRequests(sandbox, "DELETE")).toEqual([]);

    const missingReason = await runCli(["plan", "approve", plan.id], env);
    expect(missingReason.code).toBe(2);
    expect(missingReason.stderr).toContain("--reason: approve needs a reason");

    database = kind === "postgres" ? server! : await openDatabase({ dataDir });
    try {
      const rows = await queryRows<{ id: string; status: string }>(database.db, sql`select id::text as id, status from plans`);
      expect(rows).toEqual([{ id: plan.id, status: "approved" }]);
      const [pending] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from plan_items where status = 'pending'`);
      expect(pending?.n).toBe(8);
      const [approval] = await queryRows<{ approver: string; reason: string }>(database.db, sql`select approver, reason from plan_approvals`);
      expect(approval).toEqual({ approver: "token:cli-reviewer", reason: "c1 is done" });
    } finally {
      if (kind === "pglite") await database.close();
    }
  }, 420_000);
});
