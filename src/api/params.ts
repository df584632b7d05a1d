import { z } from "@hono/zod-openapi";
import { exactDate, exactTimestamp } from "../db/queries/keyset.ts";

/**
 * Query and path parameters shared by the routes. Everything arrives as text;
 * these schemas turn it into typed values or a 400 naming the parameter, so no
 * malformed value ever reaches the database (where it would be a 500).
 */

/** Postgres text cannot hold NUL; everything else is fine. */
const NO_NUL = (s: string) => !s.includes("\u0000");

export const text = (max: number, description?: string) =>
  z
    .string()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine(NO_NUL, "must not contain NUL characters")
    .openapi(description ? { description } : {});

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An ISO 8601 timestamp (`2024-05-01T12:00:00Z`, microseconds allowed), or a
 * plain date meaning the start of that UTC day, normalized to the canonical form.
 * The day must exist: `2024-02-30` is a 400 here, not a database error later.
 */
export const timestamp = (description: string) =>
  z
    .string()
    .max(40)
    .transform((value, ctx) => {
      // A plain date, as people type it and date inputs send it, is the start of that day in UTC.
      const canonical = exactTimestamp(PLAIN_DATE.test(value) ? `${value}T00:00:00Z` : value);
      if (canonical !== null) return canonical;
      ctx.addIssue({ code: "custom", message: "must be a date (2024-05-01, the start of that UTC day) or an ISO 8601 timestamp (2024-05-01T12:00:00Z) that exists, between 1900 and 9999" });
      return z.NEVER;
    })
    .openapi({ type: "string", format: "date-time", description, example: "2024-05-01T00:00:00Z" });

/** A calendar date, YYYY-MM-DD, that exists. */
export const date = (description: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD")
    .refine(exactDate, "must be a date that exists, YYYY-MM-DD, from 1900")
    .openapi({ type: "string", format: "date", description, example: "2024-05-01" });

export const bool = (description: string) =>
  z
    .enum(["true", "false"], { message: "must be true or false" })
    .transform((v) => v === "true")
    .openapi({ type: "boolean", description });

/** A whole number of at most 15 digits (exact as a JS number and as a bigint). */
export const count = (description: string) =>
  z
    .string()
    .refine((v) => !/^\s*-/.test(v), "must not be negative")
    .refine((v) => /^\s*-/.test(v) || /^\d{1,15}$/.test(v.trim()), "must be a whole number, such as 1024")
    .transform((v) => Number(v.trim()))
    .openapi({ type: "integer", minimum: 0, description });

/** A parameter that may repeat and may hold comma-separated values: `kind=a,b&kind=c`. */
export const list = <T extends z.ZodType<unknown, string>>(item: T, description: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(","))
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(item).max(50, "at most 50 values"))
    .openapi({ description, type: "string" });

/** A repeatable parameter whose values may themselves contain commas. */
export const repeated = <T extends z.ZodType<string>>(item: T, description: string) =>
  z
    .union([item, z.array(item).max(20, "at most 20 values")])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .openapi({ description, type: "string" });

export const uuid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a UUID")
  .transform((s) => s.toLowerCase())
  .openapi({ type: "string", format: "uuid", example: "22240276-2f06-41f8-9411-755c8ce926ed" });

export const projectParam = text(200, "Project (Uploadcare public key); default: every project").optional();

/** How many rows of JSON to answer; exports ignore it unless given, and then stop after that many. */
export const limitParam = z
  .string()
  .regex(/^\d{1,7}$/, "must be a whole number from 1 to 1000")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be from 1 to 1000").max(1000, "must be from 1 to 1000"))
  .optional()
  .openapi({ type: "integer", minimum: 1, maximum: 1000, description: "Rows per page (default 100)" });

export const cursorParam = z
  .string()
  .max(2000, "is not a cursor this API made")
  .optional()
  .openapi({ description: "The `nextCursor` of the previous page" });

export const FORMATS = ["json", "csv", "ndjson"] as const;
export type Format = (typeof FORMATS)[number];

export const formatParam = z
  .enum(FORMATS, { message: "must be json, csv or ndjson" })
  .optional()
  .openapi({ description: "Overrides the Accept header: csv and ndjson stream every matching row" });

export const countParam = z
  .enum(["auto", "exact", "none"], { message: "must be auto, exact or none" })
  .optional()
  .openapi({
    description: "auto (default): exact up to 1,000 matches, else the planner's estimate; exact: always count (slow on large sets); none: skip",
  });

export const orderParam = z
  .enum(["asc", "desc"], { message: "must be asc or desc" })
  .optional();

/** The paging and format parameters of every list route. */
export const listParams = { limit: limitParam, cursor: cursorParam, format: formatParam };
