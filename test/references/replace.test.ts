import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { insertFiles, uuidOf } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { clock, deps, referencedUuids, refsOf, statuses, stream } from "./helpers.ts";

const P = "refs-replace";
const FILES = 10_500;
const REFERENCED = 10_000;

describe.each(backends)("replacing a source's references on %s", (kind) => {
  let database: TestDatabase;
  const uuids = Array.from({ length: FILES }, (_, i) => uuidOf(i, 7));
  const referenced = uuids.slice(0, REFERENCED);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(
      database.db,
      uuids.map((uuid, i) => ({ projectKey: P, uuid, uploaded: new Date(Date.parse("2026-01-01T00:00:00Z") + i * 1000).toISOString(), size: 1000 + i })),
    );
  });
  afterAll(async () => {
    await database?.close();
  });

  it("marks exactly the pushed files referenced, then exactly the dropped ones unreferenced from that moment, and refuses a 50% drop", async () => {
    const t = clock("2026-03-01T00:00:00Z");
    const d = deps(database.db, t.now);

    // Before any source reports, nothing is known: no file is an orphan.
    expect([...(await statuses(database.db, P, t.now())).values()].every((s) => s.is_referenced === null)).toBe(true);

    const started = Date.now();
    const first = await replaceReferences(d, { projectKey: P, source: "app-db", kind: "push", references: stream(refsOf(referenced)), force: false, actor: "test" });
    const firstMs = Date.now() - started;
    expect(first).toMatchObject({ size: REFERENCED, previousSize: 0, added: REFERENCED, removed: 0, unresolved: 0, unknownFiles: 0, nowReferenced: REFERENCED, nowUnreferenced: 0 });
    let now = await statuses(database.db, P, t.now());
    expect(referencedUuids(now)).toEqual([...referenced].sort());
    // The rest were never referenced: unreferenced since the source's first report (they were uploaded before it).
    expect(now.get(uuids[REFERENCED]!)).toMatchObject({ is_referenced: false, unreferenced_since: "2026-03-01T00:00:00.000000Z" });

    // A set missing 100 (every 100th file): exactly those become unreferenced, at the replacement's time.
    t.advance(24);
    const dropped = referenced.filter((_, i) => i % 100 === 0);
    const kept = referenced.filter((_, i) => i % 100 !== 0);
    const second = await replaceReferences(d, {
      projectKey: P,
      source: "app-db",
      kind: "push",
      references: stream(refsOf(referenced).filter((_, i) => i % 100 !== 0)),
      force: false,
      actor: "test",
    });
    expect(second).toMatchObject({ size: REFERENCED - 100, previousSize: REFERENCED, added: 0, removed: 100, nowReferenced: 0, nowUnreferenced: 100 });
    now = await statuses(database.db, P, t.now());
    expect(referencedUuids(now)).toEqual([...kept].sort());
    for (const uuid of dropped) expect(now.get(uuid)).toMatchObject({ is_referenced: false, unreferenced_since: "2026-03-02T00:00:00.000000Z" });

    // A set with half of them is refused, says why, and changes nothing.
    t.advance(1);
    const before = await queryRows(database.db, sql`select ref, file_uuid, value from file_references where project_key = ${P} order by ref, file_uuid`);
    const stateBefore = await queryRows(database.db, sql`select * from file_reference_state where project_key = ${P} order by file_uuid`);
    await expect(
      replaceReferences(d, { projectKey: P, source: "app-db", kind: "push", references: stream(refsOf(kept.slice(0, kept.length / 2))), force: false, actor: "test" }),
    ).rejects.toThrow(/refused: the new set of app-db drops 9900 of its 9900 references|refused: the new set of app-db drops \d+ of its 9900 references \(\d+(\.\d)?%\), more than the 10% allowed; nothing changed/);
    expect(await queryRows(database.db, sql`select ref, file_uuid, value from file_references where project_key = ${P} order by ref, file_uuid`)).toEqual(before);
    expect(await queryRows(database.db, sql`select * from file_reference_state where project_key = ${P} order by file_uuid`)).toEqual(stateBefore);
    expect(referencedUuids(await statuses(database.db, P, t.now()))).toEqual([...kept].sort());
    const snapshots = await queryRows<{ kind: string; status: string; size: number; added: number; removed: number; forced: boolean }>(
      database.db,
      sql`select kind, status, size, added, removed, forced from reference_snapshots where project_key = ${P} order by taken_at`,
    );
    expect(snapshots.map((s) => [s.status, s.size, s.added, s.removed])).toEqual([
      ["applied", 10_000, 10_000, 0],
      ["applied", 9_900, 0, 100],
      ["refused", expect.any(Number), expect.any(Number), expect.any(Number)],
    ]);
    expect(snapshots[2]!.removed / 9_900).toBeGreaterThan(0.45);
    // The refused set did not count as a report.
    const [source] = await queryRows<{ last_reported_at: string; refs: number }>(
      database.db,
      sql`select to_char(last_reported_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as last_reported_at, refs from reference_sources where project_key = ${P}`,
    );
    expect(source).toEqual({ last_reported_at: "2026-03-02T00:00", refs: 9_900 });
    process.stdout.write(`[references] ${kind}: first 10,000-reference push in ${firstMs} ms\n`);
  });
});
