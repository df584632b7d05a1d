export * from "./projects.ts";
export * from "./files.ts";
export * from "./file-events.ts";
export * from "./sync.ts";
export * from "./usage.ts";
export * from "./tokens.ts";
export * from "./job-claims.ts";
export * from "./reports.ts";
