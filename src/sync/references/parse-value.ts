/**
 * A reference's value to the file it names. Applications keep Uploadcare files
 * as bare UUIDs or as CDN URLs, often with processing operations:
 *
 *   3b2a…e1f0
 *   https://ucarecdn.com/3b2a…e1f0/
 *   https://ucarecdn.com/3b2a…e1f0/-/resize/200x/-/format/webp/photo.jpg?x=1
 *   https://abc123.ucarecd.net/3b2a…e1f0/-/preview/
 *   https://cdn.example.com/3b2a…e1f0/          (a configured custom CDN domain)
 *   https://example.com/media/3b2a…e1f0/        (a configured domain with a path prefix)
 *
 * A value that names no file is an answer with a reason, not an error.
 */

export type ParsedValue = { uuid: string } | { uuid: null; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A file group's id: `<uuid>~<count>`; its files are not known from the URL alone. */
const GROUP = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}~\d+$/i;

/** Uploadcare's own CDN hosts: the shared one and the per-project subdomains. */
function isUploadcareHost(host: string): boolean {
  return host === "ucarecdn.com" || host.endsWith(".ucarecdn.com") || host.endsWith(".ucarecd.net");
}

/** The path after a configured domain's prefix, or null when the URL is not on it. */
function pathUnder(domains: readonly string[], host: string, path: string): string | null {
  for (const domain of domains) {
    const slash = domain.indexOf("/");
    const domainHost = slash < 0 ? domain : domain.slice(0, slash);
    const prefix = slash < 0 ? "" : domain.slice(slash);
    if (domainHost !== host) continue;
    if (prefix === "") return path;
    if (path === prefix || path.startsWith(`${prefix}/`)) return path.slice(prefix.length);
  }
  return null;
}

function toUrl(value: string): URL | null {
  // Protocol-relative and scheme-less values (`//ucarecdn.com/…`, `ucarecdn.com/…`) are common in HTML and CMS fields.
  const text = value.startsWith("//") ? `https:${value}` : /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

/** The file a value names. `cdnDomains` are lower-case hosts, optionally with a path prefix. */
export function parseReferenceValue(raw: string, cdnDomains: readonly string[] = []): ParsedValue {
  const value = raw.trim();
  if (value === "") return { uuid: null, reason: "empty value" };
  if (UUID.test(value)) return { uuid: value.toLowerCase() };
  if (GROUP.test(value)) return { uuid: null, reason: "a file group id (groups are not resolved to their files)" };
  if (!value.includes("/") && !value.includes(".")) return { uuid: null, reason: "not a UUID or a CDN URL" };
  const url = toUrl(value);
  if (!url) return { uuid: null, reason: "not a UUID or a CDN URL" };
  const host = url.host.toLowerCase();
  const path = isUploadcareHost(url.hostname.toLowerCase()) ? url.pathname : pathUnder(cdnDomains, host, url.pathname);
  if (path === null) return { uuid: null, reason: `${url.hostname.toLowerCase()} is not an Uploadcare CDN or a configured CDN domain` };
  const first = path.split("/").find((segment) => segment !== "") ?? "";
  if (UUID.test(first)) return { uuid: first.toLowerCase() };
  if (GROUP.test(first)) return { uuid: null, reason: "a file group URL (groups are not resolved to their files)" };
  return { uuid: null, reason: "no file UUID at the start of the URL path" };
}
