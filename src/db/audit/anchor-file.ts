import { z } from "zod";
import { canonicalTimestamp } from "../timestamps.ts";
import type { Anchor } from "./anchors.ts";

/**
 * Anchors read back from a copy kept outside the database: what
 * `GET /v1/audit/anchors` answers (a JSON page `{data: […]}` or NDJSON), what
 * `ucledger audit anchors --json` prints, or a plain JSON array. Field names in
 * camelCase or snake_case.
 */
const AnchorLine = z
  .object({
    projectKey: z.string().min(1),
    seq: z.coerce.number().int().min(1),
    hash: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 hex digits"),
    takenAt: z.string().refine((v) => {
      try {
        canonicalTimestamp(v);
        return true;
      } catch {
        return false;
      }
    }, "must be a timestamp"),
    keyId: z.string().min(1),
    signature: z.string().min(1),
  })
  .transform((a): Anchor => ({ ...a, takenAt: canonicalTimestamp(a.takenAt) }));

const SNAKE: Record<string, string> = { project_key: "projectKey", taken_at: "takenAt", key_id: "keyId" };

function camel(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [SNAKE[k] ?? k, v]));
}

function parseOne(value: unknown, where: string): Anchor {
  const parsed = AnchorLine.safeParse(camel(value));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${where}: ${issue.path.join(".") || "anchor"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Parses an anchors file; throws naming the line (or item) and field that is wrong. */
export function parseAnchorsFile(text: string): Anchor[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    const list = Array.isArray(whole) ? whole : (whole as { data?: unknown; anchors?: unknown }).data ?? (whole as { anchors?: unknown }).anchors;
    if (Array.isArray(list)) return list.map((item, i) => parseOne(item, `item ${i + 1}`));
    if (whole !== null && typeof whole === "object") return [parseOne(whole, "line 1")];
    throw new Error("line 1: not an anchor, a list of anchors or a page {\"data\": […]}");
  }
  return trimmed.split(/\r?\n/).flatMap((line, i) => {
    if (line.trim() === "") return [];
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1}: not JSON`);
    }
    return [parseOne(value, `line ${i + 1}`)];
  });
}
