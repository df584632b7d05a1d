import { bigint, date, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/** Daily figures from Uploadcare's Project API: traffic, storage, operations. */
export const usageDaily = pgTable(
  "usage_daily",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    date: date("date", { mode: "string" }).notNull(),
    metric: text("metric").notNull(),
    value: bigint("value", { mode: "number" }).notNull(),
    unit: text("unit").notNull(),
    fetchedAt: microTimestamp("fetched_at").notNull(),
  },
  (t) => [primaryKey({ name: "usage_daily_pkey", columns: [t.projectKey, t.date, t.metric] })],
);
