import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../src/env.ts";
import { ConfigError } from "../../src/errors.ts";

function configError(source: Record<string, string>): string {
  try {
    parseEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    const env = parseEnv({});
    expect(env).toEqual({
      databaseUrl: undefined,
      dataDir: "./.ucledger",
      port: 3000,
      logLevel: "info",
      uploadcareApiBase: "https://api.uploadcare.com/",
      projects: [],
      schedules: {
        enabled: true,
        filesNew: "*/5 * * * *",
        webhooks: "* * * * *",
        reconcile: "30 3 * * *",
        usage: "0 2 * * *",
        report: "0 8 * * 1",
        timezone: "UTC",
      },
      usageBackfillDays: 365,
      apiLogRetentionDays: 400,
      metricsPublic: true,
      publicUrl: "http://localhost:3000",
      mail: { smtpUrl: undefined, from: undefined, recipients: [] },
    });
  });

  it.each([
    [{ DATABASE_URL: "nonsense" }, /^DATABASE_URL: must be a postgres/],
    [{ DATABASE_URL: "mysql://h/db" }, /^DATABASE_URL: /],
    [{ PORT: "abc" }, /^PORT: must be a whole number/],
    [{ PORT: "70000" }, /^PORT: /],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL: must be one of/],
    [{ UPLOADCARE_API_BASE: "ftp://x" }, /^UPLOADCARE_API_BASE: /],
    [{ UPLOADCARE_PUBLIC_KEY: "pub" }, /^UPLOADCARE_SECRET_KEY: must be set together/],
    [{ UCLEDGER_USAGE_BACKFILL_DAYS: "0" }, /^UCLEDGER_USAGE_BACKFILL_DAYS: must be a whole number from 1/],
    [{ UCLEDGER_SCHEDULER: "maybe" }, /^UCLEDGER_SCHEDULER: must be on or off/],
    [{ SMTP_URL: "http://x" }, /^SMTP_URL: must be an smtp/],
    [{ SMTP_URL: "smtp://mail:25" }, /^REPORT_FROM: must be set when SMTP_URL is set/],
    [{ REPORT_RECIPIENTS: "a@b.c, nope" }, /^REPORT_RECIPIENTS(\.1)?: must be a comma-separated list/],
  ])("rejects %o with a message naming the variable", (source, pattern) => {
    expect(configError(source)).toMatch(pattern);
  });

  it("never echoes a secret value in its message", () => {
    const message = configError({ DATABASE_URL: "postgres//user:hunter2@db/x" });
    expect(message).not.toContain("hunter2");
  });

  it("reads a single project from the environment", () => {
    const env = parseEnv({ UPLOADCARE_PUBLIC_KEY: "pub1", UPLOADCARE_SECRET_KEY: "sec1", UPLOADCARE_PROJECT_API_TOKEN: "tok" });
    expect(env.projects).toEqual([{ publicKey: "pub1", secretKey: "sec1", projectApiToken: "tok" }]);
  });

  it("reads several projects from UCLEDGER_CONFIG and names the bad field", () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-env-"));
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ projects: [{ publicKey: "a", secretKey: "s" }, { publicKey: "b", secretKey: "t", name: "B" }] }));
    expect(parseEnv({ UCLEDGER_CONFIG: good }).projects.map((p) => p.publicKey)).toEqual(["a", "b"]);

    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ projects: [{ publicKey: "a", secretKey: "topsecret-value", apiBase: "nope" }] }));
    const message = configError({ UCLEDGER_CONFIG: bad });
    expect(message).toMatch(/projects\.0\.apiBase: must be an http/);
    expect(message).not.toContain("topsecret-value");

    const dup = join(dir, "dup.json");
    writeFileSync(dup, JSON.stringify({ projects: [{ publicKey: "a", secretKey: "s" }, { publicKey: "a", secretKey: "s" }] }));
    expect(configError({ UCLEDGER_CONFIG: dup })).toMatch(/listed twice/);

    expect(configError({ UCLEDGER_CONFIG: join(dir, "missing.json") })).toMatch(/cannot read .*ENOENT/);
    const notJson = join(dir, "nj.json");
    writeFileSync(notJson, "{");
    expect(configError({ UCLEDGER_CONFIG: notJson })).toMatch(/not valid JSON/);
  });
});
