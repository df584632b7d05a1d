import { describe, expect, it } from "vitest";
import { parseReferenceLine, readLines } from "../../src/sync/references/ndjson.ts";
import { parseReferenceValue } from "../../src/sync/references/parse-value.ts";

const U = "3b2a7c1e-5f0d-4a8b-9c6e-1d2f3a4b5c6d";
const DOMAINS = ["cdn.example.com", "example.org/media", "img.example.net:8443"];

describe("reference values", () => {
  it.each([
    ["a bare UUID", U],
    ["a bare UUID in capitals, with spaces", `  ${U.toUpperCase()} `],
    ["the CDN root", `https://ucarecdn.com/${U}/`],
    ["the CDN without a trailing slash", `https://ucarecdn.com/${U}`],
    ["operations", `https://ucarecdn.com/${U}/-/resize/200x/`],
    ["chained operations, a filename and a query", `https://ucarecdn.com/${U}/-/preview/-/format/webp/-/quality/smart/photo.jpg?token=abc#x`],
    ["http", `http://ucarecdn.com/${U}/`],
    ["protocol-relative", `//ucarecdn.com/${U}/-/crop/10x10/`],
    ["no scheme", `ucarecdn.com/${U}/`],
    ["a project subdomain", `https://1a2b3c4d5e.ucarecd.net/${U}/-/resize/200x/`],
    ["a custom CDN domain", `https://cdn.example.com/${U}/-/resize/200x/`],
    ["a custom CDN domain in capitals", `https://CDN.EXAMPLE.COM/${U}/`],
    ["a custom domain with a path prefix", `https://example.org/media/${U}/-/preview/`],
    ["a custom domain with a port", `https://img.example.net:8443/${U}/`],
  ])("reads %s", (_name, value) => {
    expect(parseReferenceValue(value, DOMAINS)).toEqual({ uuid: U });
  });

  it.each([
    ["an empty value", "  ", "empty value"],
    ["a word", "hello", "not a UUID or a CDN URL"],
    ["a near-UUID", `${U}0`, "not a UUID or a CDN URL"],
    ["another host", `https://example.com/${U}/`, "example.com is not an Uploadcare CDN or a configured CDN domain"],
    ["a look-alike host", `https://ucarecdn.com.evil.io/${U}/`, "ucarecdn.com.evil.io is not an Uploadcare CDN or a configured CDN domain"],
    ["a custom domain outside its prefix", `https://example.org/other/${U}/`, "example.org is not an Uploadcare CDN or a configured CDN domain"],
    ["a file group", `${U}~3`, "a file group id (groups are not resolved to their files)"],
    ["a file group URL", `https://ucarecdn.com/${U}~3/nth/0/`, "a file group URL (groups are not resolved to their files)"],
    ["a CDN URL without a UUID", "https://ucarecdn.com/-/proxy/whatever/", "no file UUID at the start of the URL path"],
    ["ftp", `ftp://ucarecdn.com/${U}/`, "not a UUID or a CDN URL"],
  ])("counts %s as naming no file", (_name, value, reason) => {
    expect(parseReferenceValue(value, DOMAINS)).toEqual({ uuid: null, reason });
  });
});

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function collect(gen: AsyncGenerator<{ line: number; text: string }>) {
  const out: [number, string][] = [];
  for await (const { line, text } of gen) out.push([line, text]);
  return out;
}

describe("NDJSON lines", () => {
  it("splits lines across chunk boundaries (multi-byte characters too), numbering blank ones, with or without a last newline", async () => {
    const ü = new TextEncoder().encode("ü");
    async function* split() {
      yield new TextEncoder().encode('{"ref":"a","val');
      yield new TextEncoder().encode('ue":"x"}\n\n{"ref":"');
      yield ü.slice(0, 1);
      yield ü.slice(1);
      yield new TextEncoder().encode('","value":"y"}');
    }
    expect(await collect(readLines(split()))).toEqual([
      [1, '{"ref":"a","value":"x"}'],
      [3, '{"ref":"ü","value":"y"}'],
    ]);
  });

  it("refuses an overlong line and an overlarge body", async () => {
    await expect(collect(readLines(chunks("x".repeat(50), "\n"), { maxBytes: 1000, maxLineBytes: 20 }))).rejects.toThrow("body: line 1: longer than 20 bytes");
    await expect(collect(readLines(chunks("a\nb\n".repeat(300)), { maxBytes: 1000, maxLineBytes: 20 }))).rejects.toThrow("body: larger than 1000 bytes");
  });

  it.each([
    ["{", "body: line 7: not valid JSON"],
    ['{"ref":"a"}', "body: line 7: value: Invalid input: expected string, received undefined"],
    ['{"ref":"","value":"x"}', "body: line 7: ref: must not be empty"],
    ['{"ref":"a","value":"x","extra":1}', 'body: line 7: Unrecognized key: "extra"'],
    ["[1]", "body: line 7: Invalid input: expected object, received array"],
  ])("names the line and the field of %s", (text, message) => {
    expect(() => parseReferenceLine(text, 7)).toThrow(message);
  });
});
