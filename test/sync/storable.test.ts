import { describe, expect, it } from "vitest";
import { isStorable, makeStorable } from "../../src/sync/files/storable.ts";

describe("values PostgreSQL cannot store", () => {
  it("returns a clean value itself, uncopied", () => {
    const clean = { metadata: { a: "b" }, list: ["x", 1, null] };
    expect(isStorable(clean)).toBe(true);
    expect(makeStorable(clean).value).toBe(clean);
  });

  it("substitutes NUL with U+2400 and lone surrogates with U+FFFD, in values and keys, naming each place", () => {
    const { value, problems } = makeStorable({ metadata: { "k\u0000": "v\u0000", ok: "fine", half: "\udc00x" }, name: "\ud83d" });
    expect(value).toEqual({ metadata: { "k\u2400": "v\u2400", ok: "fine", half: "\ufffdx" }, name: "\ufffd" });
    expect(problems).toEqual([
      "metadata.k\u2400 (key): contains U+0000 (NUL), stored as U+2400",
      "metadata.k\u2400: contains U+0000 (NUL), stored as U+2400",
      "metadata.half: contains a lone UTF-16 surrogate, stored as U+FFFD",
      "name: contains a lone UTF-16 surrogate, stored as U+FFFD",
    ]);
  });

  it("keeps a well-formed surrogate pair and a key named __proto__ as they are", () => {
    const input = JSON.parse('{"metadata":{"__proto__":"p\\u0000","emoji":"\\ud83d\\ude00"}}') as Record<string, unknown>;
    const { value } = makeStorable(input);
    const metadata = (value as { metadata: object }).metadata;
    expect(Object.getOwnPropertyDescriptor(metadata, "__proto__")?.value).toBe("p\u2400");
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect((metadata as Record<string, string>).emoji).toBe("😀");
  });
});
