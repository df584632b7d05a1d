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
      newFilesLookbackMinutes: 60,
      syncConcurrency: 8,
      pricing: undefined,
      apiLogRetentionDays: 400,
      metricsPublic: true,
      behindProxy: false,
      publicUrl: "http://localhost:3000",
      mail: { smtpUrl: undefined, from: undefined, recipients: [] },
      references: { maxDropShare: 0.1, cdnDomains: [], sources: [] },
      audit: { privateKey: undefined, publicKeys: [], anchorSchedule: "*/15 * * * *" },
      approvals: { required: 1, requiredLarge: 2 },
      protection: { holdKey: "ucledger_hold", holdValue: "true", recentUploadHours: 1, haltFailureRate: 0.1, haltMinAttempted: 20 },
      migrateDatabaseUrl: undefined,
      analystRole: undefined,
      cliToken: undefined,
    });
  });

  it.each([
    ["ledger@example.com"],
    ["ucledger <ledger@example.com>"],
    ['"ucledger, the ledger" <ledger@example.com>'],
    ["<ledger@example.com>"],
  ])("accepts REPORT_FROM %s as mail clients write it, and keeps it as written", (from) => {
    const env = parseEnv({ SMTP_URL: "smtp://mail:25", REPORT_FROM: from, REPORT_RECIPIENTS: "a@example.com" });
    expect(env.mail.from).toBe(from);
  });

  it.each([["ledger"], ["ucledger <not an address>"], ["ucledger <a@example.com"], ["a@example.com, b@example.com"]])("refuses REPORT_FROM %s, saying what a sender looks like", (from) => {
    expect(() => parseEnv({ REPORT_FROM: from })).toThrow(/^REPORT_FROM: must be an email address, optionally with a display name/);
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
    [{ UCLEDGER_NEW_FILES_LOOKBACK_MINUTES: "-5" }, /^UCLEDGER_NEW_FILES_LOOKBACK_MINUTES: must be a whole number from 0/],
    [{ UCLEDGER_SCHEDULER: "maybe" }, /^UCLEDGER_SCHEDULER: must be on or off/],
    [{ SMTP_URL: "http://x" }, /^SMTP_URL: must be an smtp/],
    [{ SMTP_URL: "smtp://mail:25" }, /^REPORT_FROM: must be set when SMTP_URL is set/],
    [{ REPORT_RECIPIENTS: "a@b.c, nope" }, /^REPORT_RECIPIENTS(\.1)?: must be a comma-separated list/],
    [{ UCLEDGER_REFERENCE_MAX_DROP: "10%" }, /^UCLEDGER_REFERENCE_MAX_DROP: must be a share from 0 to 1/],
    [{ UCLEDGER_REFERENCE_MAX_DROP: "1.5" }, /^UCLEDGER_REFERENCE_MAX_DROP: /],
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

  it("reads reference sources and CDN domains from UCLEDGER_CONFIG, filling in defaults, never echoing a pull URL", () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-env-"));
    const file = (name: string, body: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(body));
      return path;
    };
    const projects = [{ publicKey: "a", secretKey: "s" }];
    const url = "postgres://app:pa55word@db.internal:5432/app";
    const env = parseEnv({
      UCLEDGER_REFERENCE_MAX_DROP: "0.25",
      UCLEDGER_CONFIG: file("refs.json", {
        projects,
        cdnDomains: ["CDN.Example.com", "example.org/media/"],
        referenceSources: [{ name: "app-db", url, query: "select id as ref, photo as value from users" }, { name: "cms", staleAfterHours: 8 }],
      }),
    });
    expect(env.references).toEqual({
      maxDropShare: 0.25,
      cdnDomains: ["cdn.example.com", "example.org/media"],
      sources: [
        { name: "app-db", projectKey: "a", staleAfterHours: 48, pull: { url, query: "select id as ref, photo as value from users", schedule: "0 * * * *", statementTimeoutMs: 60_000 } },
        { name: "cms", projectKey: "a", staleAfterHours: 8, pull: undefined },
      ],
    });

    const noQuery = configError({ UCLEDGER_CONFIG: file("nq.json", { projects, referenceSources: [{ name: "x", url: "postgres://u:hunter2@h/db" }] }) });
    expect(noQuery).toMatch(/referenceSources\.0: url and query go together/);
    expect(noQuery).not.toContain("hunter2");
    const badUrl = configError({ UCLEDGER_CONFIG: file("bu.json", { projects, referenceSources: [{ name: "x", url: "mysql://u:hunter2@h/db", query: "q" }] }) });
    expect(badUrl).toMatch(/referenceSources\.0\.url: must be a postgres/);
    expect(badUrl).not.toContain("hunter2");
    expect(configError({ UCLEDGER_CONFIG: file("bn.json", { projects, referenceSources: [{ name: "bad name" }] }) })).toMatch(/referenceSources\.0\.name: /);
    expect(
      configError({ UCLEDGER_CONFIG: file("two.json", { projects: [...projects, { publicKey: "b", secretKey: "t" }], referenceSources: [{ name: "x" }] }) }),
    ).toMatch(/referenceSources\.0\.project: required when several projects are configured/);
    expect(configError({ UCLEDGER_CONFIG: file("unk.json", { projects, referenceSources: [{ name: "x", project: "zz" }] }) })).toMatch(/zz is not a configured project/);
    expect(configError({ UCLEDGER_CONFIG: file("dup.json", { projects, referenceSources: [{ name: "x" }, { name: "x" }] }) })).toMatch(/listed twice/);
    expect(configError({ UCLEDGER_CONFIG: file("cdn.json", { projects, cdnDomains: ["https://cdn.example.com"] }) })).toMatch(/cdnDomains\.0: must be a host name/);
  });
});
