import { text, timestamp } from "drizzle-orm/pg-core";

/**
 * Microsecond timestamps read back as strings: Uploadcare's times carry
 * microseconds and a JS Date keeps only milliseconds, so a `date` mode column
 * would flag every row as changed on the next comparison. Sessions run in UTC,
 * so values come back as `2018-11-27 01:00:43.001705+00`.
 */
export const microTimestamp = (name: string) => timestamp(name, { withTimezone: true, precision: 6, mode: "string" });

/** The Uploadcare public key; every primary key and unique constraint starts with it (shard key). */
export const projectKey = () => text("project_key").notNull();
