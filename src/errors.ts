/**
 * Typed errors shared by every module. Leaf module: imports nothing.
 *
 * Each error has a stable `code` that callers (and the HTTP error handler) branch on, and keeps the
 * chain of causes through the standard `cause` option.
 */
export class AppError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. Never localised, never changed once shipped. */
  readonly code: string;
  /** HTTP status the error maps to when it escapes a request handler. */
  readonly status: number;
  /** Matrix-style errcode used in HTTP error bodies. */
  readonly errcode: string;

  constructor(code: string, message: string, opts: { status?: number; errcode?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.errcode = opts.errcode ?? (this.status >= 500 ? 'M_UNKNOWN' : 'M_BAD_JSON');
  }
}

/** A configuration value is missing, malformed or unknown. `keyPath` names it, e.g. `twenty.url`. */
export class ConfigError extends AppError {
  readonly keyPath: string;
  readonly problems: readonly string[];
  constructor(keyPath: string, message: string, opts: { problems?: string[]; cause?: unknown } = {}) {
    super('CONFIG_INVALID', message, { status: 500, cause: opts.cause });
    this.keyPath = keyPath;
    this.problems = opts.problems ?? [message];
  }
}

/** A call to a remote API (homeserver, Wazo, Twenty) failed. */
export class RemoteApiError extends AppError {
  readonly service: string;
  /** HTTP status from the remote side; 0 for network errors and timeouts. */
  readonly remoteStatus: number;
  /** Remote error code when the body carried one (`M_LIMIT_EXCEEDED`, `BAD_USER_INPUT`, ...). */
  readonly remoteCode: string | undefined;
  /** Milliseconds the remote side asked us to wait before retrying, when it said so. */
  readonly retryAfterMs: number | undefined;
  constructor(
    service: string,
    remoteStatus: number,
    message: string,
    opts: { remoteCode?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super('REMOTE_API_ERROR', `${service}: ${message}`, { status: 502, cause: opts.cause });
    this.service = service;
    this.remoteStatus = remoteStatus;
    this.remoteCode = opts.remoteCode;
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** True for errors worth retrying: network failures, 429 and 5xx. */
  get retryable(): boolean {
    return this.remoteStatus === 0 || this.remoteStatus === 429 || this.remoteStatus >= 500;
  }
}

/** Input from outside that fails validation: maps to HTTP 400. */
export class BadRequestError extends AppError {
  constructor(message: string, errcode = 'M_BAD_JSON', opts: { cause?: unknown; status?: number } = {}) {
    super('BAD_REQUEST', message, { status: opts.status ?? 400, errcode, cause: opts.cause });
  }
}

/** An event we deliberately do not handle (unsupported type, echo of our own message, ...). */
export class IgnoredEventError extends AppError {
  constructor(reason: string) {
    super('EVENT_IGNORED', reason, { status: 200 });
  }
}

/** A part of the service is not configured (e.g. `[twenty] url` empty) but a command needs it. */
export class NotConfiguredError extends AppError {
  readonly section: string;
  constructor(section: string, message: string) {
    super('NOT_CONFIGURED', message, { status: 503 });
    this.section = section;
  }
}

/** Renders an error and its causes on one line, for logs and CLI messages. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': caused by: ');
}
