/**
 * JSON with object keys sorted at every level. Postgres's jsonb reorders keys, so a
 * hash over plain JSON.stringify would not survive a round trip through the table.
 */
export function canonicalJson(value: unknown): string {
  // Written directly rather than by sorting a copy and calling JSON.stringify:
  // the sync hashes and compares a few objects per file, and the copies were
  // most of the cost. The output is the same, byte for byte
  // (test/db/canonical-json.test.ts): keys sorted by UTF-16 code units at every
  // level, undefined members left out, every key an own property (an object's
  // `__proto__` key included).
  if (value === null) return "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i > 0 ? "," : "") + (item === undefined || typeof item === "function" || typeof item === "symbol" ? "null" : canonicalJson(item));
    }
    return out + "]";
  }
  if (typeof value === "object") {
    let out = "{";
    let first = true;
    for (const key of keyOrder(Object.keys(value))) {
      const inner: unknown = (value as Record<string, unknown>)[key];
      if (inner === undefined || typeof inner === "function" || typeof inner === "symbol") continue;
      out += (first ? "" : ",") + JSON.stringify(key) + ":" + canonicalJson(inner);
      first = false;
    }
    return out + "}";
  }
  return JSON.stringify(value);
}

/**
 * Sorted keys in the order JSON.stringify wrote them from the sorted copy: an
 * object lists array-index keys ("2", "10") first, in numeric order, then the
 * rest in the order they were added (sorted).
 */
function keyOrder(keys: string[]): string[] {
  keys.sort();
  // Sorted, so keys starting with a digit (the only candidates) come before letters but after
  // some punctuation: look at each first character rather than testing every key.
  if (!keys.some(startsWithDigit)) return keys;
  const indices = keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((k) => !isArrayIndex(k))];
}

function startsWithDigit(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
}

function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 2 ** 32 - 1;
}

/** Deep equality as the ledger sees it: same canonical JSON. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The value without keys named `__proto__` at any level: what canonicalJson saw of it
 * before it kept them (audit hashes written then cover this). The same reference when
 * there is no such key.
 */
export function withoutProtoKeys<T>(value: T): T {
  if (Array.isArray(value)) {
    const items = value.map(withoutProtoKeys);
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (value !== null && typeof value === "object") {
    let changed = false;
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, inner] of Object.entries(value)) {
      if (key === "__proto__") {
        changed = true;
        continue;
      }
      const stripped = withoutProtoKeys(inner);
      if (stripped !== inner) changed = true;
      out[key] = stripped;
    }
    return (changed ? out : value) as T;
  }
  return value;
}
