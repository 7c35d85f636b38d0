/**
 * Structured logging (pino): one JSON object per line on stderr, or pretty output on a TTY.
 * Leaf module. Secrets registered with {@link registerSecret} are scrubbed from every line written,
 * whatever field they hide in; known secret-bearing keys are also redacted by name.
 */
import pino, { type Logger } from 'pino';
import prettyFactory from 'pino-pretty';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty' | 'auto';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const secrets = new Set<string>();

/** Remembers a secret value so that it never appears in log output. Values shorter than 6 chars are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) secrets.add(value);
}

/** Replaces every registered secret in `line` with `[REDACTED]`. */
export function scrubSecrets(line: string): string {
  let out = line;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  }
  return out;
}

const REDACT_PATHS = [
  'password',
  'token',
  'access_token',
  'as_token',
  'hs_token',
  'refresh_token',
  'api_key',
  'apiKey',
  'authorization',
  'headers.authorization',
  '*.password',
  '*.token',
  '*.access_token',
  '*.as_token',
  '*.hs_token',
  '*.refresh_token',
  '*.api_key',
  '*.apiKey',
  '*.authorization',
];

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; defaults to stderr (fd 2). Tests pass an in-memory stream. */
  destination?: NodeJS.WritableStream;
}

/** Creates the root logger. Call once at start-up; hand child loggers (`log.child({job})`) down. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'auto';
  const destination = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const pretty = format === 'pretty' || (format === 'auto' && !opts.destination && process.stderr.isTTY === true);
  const base: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: { streamWrite: scrubSecrets },
  };
  if (pretty) {
    // pino-pretty as a synchronous stream (not a worker transport), so nothing is lost on exit.
    return pino(base, prettyStream());
  }
  return pino(base, destination);
}

function prettyStream(): NodeJS.WritableStream {
  return prettyFactory({ colorize: true, destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l' });
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
