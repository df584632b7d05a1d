/**
 * JSON with object keys sorted at every level. Postgres's jsonb reorders keys, so a
 * hash over plain JSON.stringify would not survive a round trip through the table.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    // No prototype: every key becomes an own property. On `{}`, assigning the key
    // `__proto__` (a valid Uploadcare metadata key) sets the prototype instead, and
    // the key vanished from the output: changes to it were neither seen nor hashed.
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner !== undefined) out[key] = sortKeys(inner);
    }
    return out;
  }
  return value;
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
