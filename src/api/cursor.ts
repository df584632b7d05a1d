import type { KeyColumn, KeysetOrder, KeysetPosition, KeyValue } from "../db/queries/keyset.ts";
import { toEpochMicros } from "../db/timestamps.ts";
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

function validValue(key: KeyColumn, value: unknown): boolean {
  switch (key.cast) {
    case "timestamptz":
      if (typeof value !== "string" || value.length > 40) return false;
      try {
        const micros = toEpochMicros(value);
        return micros >= -2208988800000000n && micros < 253402300800000000n;
      } catch {
        return false;
      }
    case "bigint":
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value) && (key.cast === "bigint" || Math.abs(value) < 2 ** 31);
    case "uuid":
      return typeof value === "string" && UUID.test(value);
    case "date":
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && value >= "1900";
    case "boolean":
      return typeof value === "boolean";
    case "text":
      return typeof value === "string" && value.length <= 1000 && !value.includes("\u0000");
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
  const lead = body.l;
  const valid =
    lead.length === order.lead.length &&
    order.lead.every((key, i) => validValue(key, lead[i])) &&
    validValue(order.tie, body.t) &&
    body.p.length <= 1000 &&
    !body.p.includes("\u0000");
  if (!valid) throw new ValidationError("cursor: is not a cursor this API made");
  return { lead: lead as KeyValue[], projectKey: body.p, tie: body.t as KeyValue };
}
