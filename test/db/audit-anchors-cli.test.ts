import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { generateAnchorKeyPem, parsePrivateKey, parsePublicKey, signerFrom } from "../../src/db/audit/anchor-key.ts";
import { takeAnchor } from "../../src/db/audit/anchors.ts";
import { appendEvents, type NewEvent } from "../../src/db/audit/chain.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { runCli } from "../support/cli.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

const keys = generateAnchorKeyPem();
const signer = signerFrom(parsePrivateKey(keys.privateKey));
const publicKey = parsePublicKey(keys.publicKey);

function events(count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    fileUuid: null,
    kind: "action",
    before: null,
    after: { step: i },
    occurredAt: null,
    observedAt: "2026-11-20T10:00:00Z",
    source: "action",
    runId: null,
    planId: null,
    actor: "cli:test",
  }));
}

describe.each(backends)("ucledger audit verify against signed anchors, as a child process on %s", (kind) => {
  let server: TestDatabase | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it("exits 0 on an intact chain, and 1 naming the truncation once the tail is cut with the head moved back", async () => {
    const P = `anchorclipk${kind}`;
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-anchors-cli-"));
    if (kind === "postgres") server = await createTestDatabase("postgres");
    const env: Record<string, string> = {
      UPLOADCARE_PUBLIC_KEY: P,
      UPLOADCARE_SECRET_KEY: "secret-not-used",
      UCLEDGER_AUDIT_KEY: keys.privateKey,
      ...(kind === "postgres" ? { DATABASE_URL: server!.url! } : { UCLEDGER_DATA_DIR: dataDir }),
    };
    // PGlite allows one process per data directory: open it in-process only between the children.
    const withDatabase = async (body: (database: Database) => Promise<void>) => {
      const database = kind === "postgres" ? server! : await openDatabase({ dataDir });
      try {
        await body(database);
      } finally {
        if (kind === "pglite") await database.close();
      }
    };

    // Seven events, anchored at 4 and at 7.
    await withDatabase(async ({ db }) => {
      await registerProjects(db, [{ projectKey: P, name: P, isDemo: false }]);
      await db.transaction((tx) => appendEvents(tx, P, events(4)));
      expect((await takeAnchor(db, P, signer, publicKey, new Date("2026-11-20T11:00:00Z"))).taken).toBe(true);
      await db.transaction((tx) => appendEvents(tx, P, events(3)));
      expect((await takeAnchor(db, P, signer, publicKey, new Date("2026-11-20T12:00:00Z"))).taken).toBe(true);
    });

    const intact = await runCli(["audit", "verify", "--project", P], env);
    expect(intact.stderr).toBe("");
    expect(intact.stdout).toContain(`${P}: chain intact, 7 events`);
    expect(intact.stdout).toContain(`${P}: anchors agree (2 anchor(s) in the database; newest holding: event 7`);
    expect(intact.code).toBe(0);

    // A copy of the anchors outside the database, as `audit anchors --json` prints it.
    const exported = await runCli(["audit", "anchors", "--project", P, "--json"], env);
    expect(exported.code).toBe(0);
    const anchorsFile = join(dataDir, "anchors.ndjson");
    writeFileSync(anchorsFile, exported.stdout);

    // As a superuser would: cut events 6 and 7 and move the head back to 5. The chain alone still holds.
    await withDatabase(async ({ db }) => {
      await db.execute(sql`alter table file_events disable trigger user`);
      try {
        await db.execute(sql`delete from file_events where project_key = ${P} and seq > 5`);
        await db.execute(sql`update audit_chain_heads set last_seq = 5,
          last_hash = (select hash from file_events where project_key = ${P} and seq = 5) where project_key = ${P}`);
      } finally {
        await db.execute(sql`alter table file_events enable trigger user`);
      }
    });

    const truncated = await runCli(["audit", "verify", "--project", P, "--anchors", anchorsFile], env);
    expect(truncated.stdout).toContain(`${P}: chain intact, 5 events`);
    expect(truncated.stdout).toContain(`${P}: anchors DISAGREE (2 anchor(s) in the database, 2 from the file):`);
    expect(truncated.stdout).toMatch(/ {2}truncated: the chain head records 5 events, but \d anchor\(s\) vouch for more, up to event 7 .*events after 5 were removed/);
    expect(truncated.code).toBe(1);

    const json = await runCli(["audit", "verify", "--project", P, "--json", "--full"], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout.trim()) as { ok: boolean; chain: { ok: boolean }; problems: { kind: string; seq: number }[] };
    expect(report).toMatchObject({ ok: false, chain: { ok: true } });
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([["truncated", 7]]);
  }, 120_000);
});
