import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

export interface ProjectEntry {
  projectKey: string;
  name: string;
  isDemo: boolean;
  addedAt: string;
}

/** Every project key the ledger knows, for resolving filters and fanning out listings. */
export async function projectKeys(db: Queryable): Promise<string[]> {
  const rows = await queryRows<{ project_key: string }>(db, sql`select project_key from projects order by project_key collate "C"`);
  return rows.map((r) => r.project_key);
}

/** By key, byte order. */
export const PROJECT_ORDER: KeysetOrder = {
  lead: [],
  tie: { expr: sql`projects.project_key collate "C"`, cast: "text", field: "project_key" },
  direction: "asc",
};

export async function countProjects(db: Queryable, mode: CountMode): Promise<Total> {
  return countRows(db, { from: sql`projects`, where: [], mode });
}

export async function listProjectsPage(
  db: Queryable,
  query: { after: KeysetPosition | null; limit: number },
): Promise<{ items: ProjectEntry[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<{ project_key: string; name: string; is_demo: boolean; added_at: string }>(db, {
    columns: sql.raw(`project_key, name, is_demo, ${isoColumn("added_at")}`),
    from: sql`projects`,
    where: [],
    order: PROJECT_ORDER,
    projects: null,
    after: query.after,
    limit: query.limit,
  });
  return {
    items: page.rows.map((r) => ({ projectKey: r.project_key, name: r.name, isDemo: r.is_demo, addedAt: r.added_at })),
    next: page.next,
  };
}
