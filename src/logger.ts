import { pino, type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths pino blanks out wherever they appear, so a secret handed to a log call
 * by mistake never reaches the output.
 */
const REDACT_PATHS = [
  "secretKey",
  "*.secretKey",
  "projectApiToken",
  "*.projectApiToken",
  "webhookSecret",
  "*.webhookSecret",
  "signingSecret",
  "*.signingSecret",
  "signing_secret",
  "*.signing_secret",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "password",
  "*.password",
  "databaseUrl",
  "*.databaseUrl",
];

/** Root JSON-lines logger; modules take `logger.child({ module: "sync.files" })`. */
export function createLogger(
  level: LogLevel = "info",
  options: { stderr?: boolean; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      level,
      base: { app: "ucledger" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: options.stderr ? 2 : 1, sync: true }),
  );
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: "silent" });
