import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * The dashboard's stylesheet and script, read once at start-up. They are
 * served with a content hash in the URL, so browsers may keep them for a year.
 */

const read = (name: string) => readFileSync(new URL(`./static/${name}`, import.meta.url), "utf8");

export const ASSETS: Record<string, { body: string; type: string }> = {
  "app.css": { body: read("app.css"), type: "text/css; charset=utf-8" },
  "app.js": { body: read("app.js"), type: "text/javascript; charset=utf-8" },
};

export const ASSET_VERSION = createHash("sha256")
  .update(Object.values(ASSETS).map((a) => a.body).join("\0"))
  .digest("hex")
  .slice(0, 12);
