import { exactDate, exactTimestamp, type KeyColumn, type KeysetOrder, type KeysetPosition, type KeyValue } from "../db/queries/keyset.ts";
import { ValidationError } from "../errors.ts";

/**
 * Opaque cursors: base64url JSON of where the page ended plus the listing it
 * belongs to (`scope`, e.g. `files:size:desc`). Decoding checks every value
 * against its key's type, so a hand-made cursor is a 400, never a database error.
 */

interface Encoded {
  s: string;
  l: KeyValue[];
  p: string;
  t: KeyValue;
}

export function encodeCursor(scope: string, position: KeysetPosition): string {
  const body: Encoded = { s: scope, l: position.lead, p: position.projectKey, t: position.tie };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The value as the query will cast it, or undefined when it is not one of
 * the key's type. Timestamps come back canonical, and days are checked against
 * the calendar: PostgreSQL refuses `2024-02-30`, which JavaScript's Date takes.
 */
function checkedValue(key: KeyColumn, value: unknown): KeyValue | undefined {
  switch (key.cast) {
    case "timestamptz":
      return typeof value === "string" ? (exactTimestamp(value) ?? undefined) : undefined;
    case "bigint":
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value) && (key.cast === "bigint" || Math.abs(value) < 2 ** 31) ? value : undefined;
    case "uuid":
      return typeof value === "string" && UUID.test(value) ? value : undefined;
    case "date":
      return typeof value === "string" && exactDate(value) ? value : undefined;
    case "boolean":
      return typeof value === "boolean" ? value : undefined;
    case "text":
      return typeof value === "string" && value.length <= 1000 && !value.includes("\u0000") ? value : undefined;
  }
}

export function decodeCursor(cursor: string, scope: string, order: KeysetOrder): KeysetPosition {
  let body: Partial<Encoded>;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<Encoded>;
  } catch {
    throw new ValidationError("cursor: is not a cursor this API made");
  }
  if (body === null || typeof body !== "object" || !Array.isArray(body.l) || typeof body.p !== "string") {
    throw new ValidationError("cursor: is not a cursor this API made");
  }
  if (body.s !== scope) throw new ValidationError("cursor: belongs to another listing or sort order; start again without it");
  const lead = checkedLead(body.l, order);
  const tie = checkedValue(order.tie, body.t);
  if (lead === undefined || tie === undefined || body.p.length > 1000 || body.p.includes("\u0000")) {
    throw new ValidationError("cursor: is not a cursor this API made");
  }
  return { lead, projectKey: body.p, tie };
}

function checkedLead(values: unknown[], order: KeysetOrder): KeyValue[] | undefined {
  if (values.length !== order.lead.length) return undefined;
  const checked = order.lead.map((key, i) => checkedValue(key, values[i]));
  return checked.every((v) => v !== undefined) ? (checked as KeyValue[]) : undefined;
}
