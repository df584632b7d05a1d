import { boolean, pgTable, text } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { microTimestamp } from "./columns.ts";

/**
 * The Uploadcare projects this deployment keeps a ledger of. Keys and tokens are
 * configuration, never stored here: this table is safe to show analysts.
 */
export const projects = pgTable("projects", {
  projectKey: text("project_key").primaryKey(),
  name: text("name").notNull(),
  /** True for the built-in sandbox project of demo mode. */
  isDemo: boolean("is_demo").notNull().default(false),
  addedAt: microTimestamp("added_at").notNull().default(sql`now()`),
});

export type Project = typeof projects.$inferSelect;
