/**
 * What PostgreSQL cannot store as sent. `text` and `jsonb` refuse the NUL
 * character (U+0000), and `jsonb` refuses a lone UTF-16 surrogate (`"\ud800"`):
 * one such value in one file would make the whole page's statement fail, and the
 * same page is read again on every run. The ledger stores a documented
 * substitute instead and keeps the exact text in `file_quarantine`:
 *   U+0000             → U+2400 SYMBOL FOR NULL (␀)
 *   a lone surrogate   → U+FFFD REPLACEMENT CHARACTER (�)
 * Object keys get the same treatment as values.
 */
export const NUL_SUBSTITUTE = "\u2400";
export const SURROGATE_SUBSTITUTE = "\ufffd";

export interface StorableValue {
  value: unknown;
  /** One line per substituted string, naming where it was (`metadata.note`). */
  problems: string[];
}

/** True when PostgreSQL's `text` and `jsonb` can hold the string as it is. */
export function isStorableString(text: string): boolean {
  return !text.includes("\u0000") && text.isWellFormed();
}

export function storableString(text: string): string {
  return text.replaceAll("\u0000", NUL_SUBSTITUTE).toWellFormed();
}

/** True when every string and key in `value` can be stored as it is (the common case: no copy needed). */
export function isStorable(value: unknown): boolean {
  if (typeof value === "string") return isStorableString(value);
  if (Array.isArray(value)) return value.every(isStorable);
  if (value !== null && typeof value === "object") {
    // Keys then values by index: no entry arrays to allocate for every object of every page.
    for (const key of Object.keys(value)) if (!isStorableString(key) || !isStorable((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** `value` itself when PostgreSQL can store it, else a copy with substitutes, and what was substituted where. */
export function makeStorable(value: unknown): StorableValue {
  if (isStorable(value)) return { value, problems: [] };
  const problems: string[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === "string") {
      if (isStorableString(node)) return node;
      problems.push(`${path || "(value)"}: ${describe(node)}`);
      return storableString(node);
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, path ? `${path}.${i}` : String(i)));
    if (node !== null && typeof node === "object") {
      // Built key by key with defineProperty: a key named `__proto__` stays a key.
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(node)) {
        let storedKey = key;
        if (!isStorableString(key)) {
          storedKey = storableString(key);
          problems.push(`${path ? `${path}.` : ""}${storedKey} (key): ${describe(key)}`);
        }
        Object.defineProperty(out, storedKey, {
          value: walk(inner, path ? `${path}.${storedKey}` : storedKey),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return node;
  };
  const result = walk(value, "");
  return { value: result, problems };
}

function describe(text: string): string {
  const parts: string[] = [];
  if (text.includes("\u0000")) parts.push("contains U+0000 (NUL), stored as U+2400");
  if (!text.isWellFormed()) parts.push("contains a lone UTF-16 surrogate, stored as U+FFFD");
  return parts.join("; ");
}
