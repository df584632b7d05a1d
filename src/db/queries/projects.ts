import { sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { projects } from "../schema/index.ts";

export interface ProjectRegistration {
  projectKey: string;
  name: string;
  isDemo: boolean;
}

/** Makes sure every configured project has its row (and its audit chain head). */
export async function registerProjects(db: Db, list: ProjectRegistration[]): Promise<void> {
  if (list.length === 0) return;
  await db
    .insert(projects)
    .values(list)
    .onConflictDoUpdate({
      target: projects.projectKey,
      set: { name: sql`excluded.name`, isDemo: sql`excluded.is_demo` },
      // Skip the write when nothing changed, so restarts leave the row alone.
      setWhere: sql`(${projects.name}, ${projects.isDemo}) IS DISTINCT FROM (excluded.name, excluded.is_demo)`,
    });
}

export async function listProjects(db: Db) {
  return db.select().from(projects).orderBy(projects.projectKey);
}
