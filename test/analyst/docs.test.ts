import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeReportingSurface, dictionarySection, renderDictionary } from "../../src/db/queries/analyst.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { asAnalyst, seedReportingProject } from "./helpers.ts";

const DOC_PATH = new URL("../../docs/analysts.md", import.meta.url);
const doc = readFileSync(DOC_PATH, "utf8");

/** Every ```sql block of the document, with the heading above it. */
function exampleQueries(markdown: string): { title: string; sql: string }[] {
  const out: { title: string; sql: string }[] = [];
  let title = "";
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("### ")) title = line.slice(4);
    if (line.trim() === "```sql") {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++) body.push(lines[i]!);
      out.push({ title, sql: body.join("\n") });
    }
  }
  return out;
}

const EXAMPLES = exampleQueries(doc);

describe("docs/analysts.md", () => {
  it("has a dozen or more example queries, each under its own question", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(12);
    expect(new Set(EXAMPLES.map((e) => e.title)).size).toBe(EXAMPLES.length);
  });
});

describe.each(backends)("docs/analysts.md on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await seedReportingProject(database.db, "docs-p");
    await seedReportingProject(database.db, "docs-q");
  });
  afterAll(async () => {
    await database?.close();
  });

  it("holds the data dictionary the database's comments make (regenerate: ucledger analyst dictionary --update docs/analysts.md)", async () => {
    const generated = renderDictionary(await describeReportingSurface(database.db));
    expect(dictionarySection(doc).section).toBe(generated);
  });

  it.each(EXAMPLES)("answers as ucledger_analyst: $title", async ({ sql }) => {
    const rows = await asAnalyst(database, (query) => query(sql));
    expect(rows.length).toBeGreaterThan(0);
    // No column of an answer is empty throughout: the seeded data exercises them all.
    for (const column of Object.keys(rows[0]!)) {
      expect(
        rows.some((r) => r[column] !== null),
        column,
      ).toBe(true);
    }
  });
});
