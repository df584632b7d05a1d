/**
 * The script a user would write instead of ucledger: the official SDK's
 * `paginate(listOfFiles)` at 1,000 a page (live, then `removed: true`), and one
 * drizzle `insert … on conflict do update` per page into a table with typed
 * columns and the object as jsonb.
 */
import { listOfFiles, paginate, UploadcareSimpleAuthSchema } from "@uploadcare/rest-client";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { bigint, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import pg from "pg";
import { contenderArgs, measure } from "./child.ts";

const files = pgTable("naive_files", {
  uuid: uuid("uuid").primaryKey(),
  datetimeUploaded: timestamp("datetime_uploaded", { withTimezone: true, mode: "string" }).notNull(),
  datetimeStored: timestamp("datetime_stored", { withTimezone: true, mode: "string" }),
  datetimeRemoved: timestamp("datetime_removed", { withTimezone: true, mode: "string" }),
  size: bigint("size", { mode: "number" }).notNull(),
  mimeType: text("mime_type").notNull(),
  originalFilename: text("original_filename").notNull(),
  data: jsonb("data").notNull(),
});

const { sandbox, databaseUrl } = contenderArgs();
const pool = new pg.Pool({ connectionString: databaseUrl });
const db = drizzle(pool);
await db.execute(sql`create table if not exists naive_files (
  uuid uuid primary key, datetime_uploaded timestamptz not null, datetime_stored timestamptz,
  datetime_removed timestamptz, size bigint not null, mime_type text not null, original_filename text not null, data jsonb not null)`);
const settings = {
  authSchema: new UploadcareSimpleAuthSchema({ publicKey: sandbox.publicKey, secretKey: sandbox.secretKey }),
  apiBaseURL: sandbox.url,
};

await measure(async () => {
  let count = 0;
  for (const removed of [false, true]) {
    for await (const page of paginate(listOfFiles)({ limit: 1000, removed }, settings)) {
      if (page.results.length === 0) continue;
      const rows = page.results.map((f) => ({
        uuid: f.uuid,
        datetimeUploaded: f.datetimeUploaded,
        datetimeStored: f.datetimeStored,
        datetimeRemoved: f.datetimeRemoved,
        size: f.size,
        mimeType: f.mimeType,
        originalFilename: f.originalFilename,
        data: f,
      }));
      await db
        .insert(files)
        .values(rows)
        .onConflictDoUpdate({
          target: files.uuid,
          set: {
            datetimeStored: sql`excluded.datetime_stored`,
            datetimeRemoved: sql`excluded.datetime_removed`,
            size: sql`excluded.size`,
            mimeType: sql`excluded.mime_type`,
            originalFilename: sql`excluded.original_filename`,
            data: sql`excluded.data`,
          },
        });
      count += rows.length;
    }
  }
  return { files: count };
});
await pool.end();
