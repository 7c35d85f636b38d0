/**
 * The appservice's Client-Server API client: matrix-js-sdk's HTTP layer authenticated with the `as_token`,
 * identity assertion per call (`user_id`), and one retry policy for every call: 429 waits `Retry-After` (or
 * `retry_after_ms`), 5xx and network errors back off exponentially up to a cap, other 4xx fail at once.
 * After the last attempt a retryable failure is thrown as a retryable `RemoteApiError`, so the outbox can
 * try again later without losing the message.
 */
import {
  ClientPrefix,
  ConnectionError,
  createHttp,
  type IRequestOpts,
  MatrixError,
  type Method,
  type SdkHttp,
} from './http.ts';
import { withTimeout } from './fetch.ts';
import { RemoteApiError } from '../errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RetryPolicy {
  /** Attempts per call before giving up with a retryable error (>= 1). */
  maxAttempts: number;
  /** First backoff for 5xx/network errors; doubles per attempt. */
  baseDelayMs: number;
  /** Cap of one backoff (and of a server-requested wait). */
  maxDelayMs: number;
}

export interface MatrixApiOptions {
  baseUrl: string;
  /** The registration's `as_token` (or, from {@link MatrixApi.forUser}, a user's own access token). */
  asToken: string;
  /** The bot's MXID (or that user's): the identity of calls without `user_id`. */
  botUserId: string;
  retry?: Partial<RetryPolicy>;
  /** Injected for tests (no real waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout (a hung homeserver counts as a network error). */
  timeoutMs?: number;
}

export interface RequestOptions {
  /** Act as this user (identity assertion); default the bot. */
  userId?: string;
  /** Extra query parameters (e.g. `ts`). */
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Path prefix; default `/_matrix/client/v3`. */
  prefix?: string;
  /** Override the retry policy for this call (e.g. one attempt for health checks). */
  retry?: Partial<RetryPolicy>;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 30_000 };

/** Waits on a real timer that does not keep the process alive on its own (servers do that). */
export const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** `sleep`, cut short when `signal` aborts. */
export function abortableSleep(
  sleep: (ms: number) => Promise<void>,
  signal: AbortSignal,
): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
      void sleep(ms).then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
}

export class MatrixApi {
  readonly baseUrl: string;
  readonly botUserId: string;
  readonly #http: SdkHttp;
  readonly #retry: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #asToken: string;

  constructor(opts: MatrixApiOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/$/, '');
    this.botUserId = opts.botUserId;
    this.#asToken = opts.asToken;
    this.#http = createHttp(this.baseUrl, opts.asToken);
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#sleep = opts.sleep ?? realSleep;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /**
   * A client acting as one real user with that user's own access token (double puppeting's `login-matrix`):
   * same homeserver, retry policy, sleep and timeout, and no identity assertion (`user_id` is never sent,
   * since `userId` is its own identity).
   */
  forUser(userId: string, accessToken: string): MatrixApi {
    return new MatrixApi({
      baseUrl: this.baseUrl,
      asToken: accessToken,
      botUserId: userId,
      retry: this.#retry,
      sleep: this.#sleep,
      timeoutMs: this.#timeoutMs,
    });
  }

  /** One C-S call with identity assertion and the retry policy. `path` is relative to the prefix. */
  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const query: Record<string, string> = {};
    if (opts.userId && opts.userId !== this.botUserId) query.user_id = opts.userId;
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query[k] = v;
    const prefix = opts.prefix ?? ClientPrefix.V3;
    return this.#withRetry(`${method} ${path}`, { ...this.#retry, ...opts.retry }, () =>
      // Not the SDK's localTimeoutMs: its timer is never cleared and keeps the process alive; ours is unref'd
      // and cleared when the call ends.
      withTimeout(this.#timeoutMs, (abortSignal) =>
        this.#http.authedRequest<T>(
          method as Method,
          path,
          query,
          opts.body as Record<string, unknown> | undefined,
          { prefix, abortSignal } as unknown as IRequestOpts,
        ),
      ),
    );
  }

  /** Uploads bytes to the media repository (plain fetch: the SDK's upload needs browser-like streams). */
  async upload(bytes: Uint8Array, contentType: string, filename: string, userId?: string): Promise<string> {
    const url = new URL(`${this.baseUrl}/_matrix/media/v3/upload`);
    url.searchParams.set('filename', filename);
    if (userId && userId !== this.botUserId) url.searchParams.set('user_id', userId);
    const res = await this.#withRetry('POST /upload', this.#retry, async () => {
      let r: Response;
      try {
        r = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.#asToken}`, 'content-type': contentType },
          body: bytes as unknown as ArrayBuffer,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (err) {
        throw new ConnectionError('upload failed', err as Error);
      }
      const body = (await r.json().catch(() => ({}))) as Record<string, unknown>;
      if (!r.ok) throw new MatrixError(body, r.status, url.toString(), undefined, r.headers);
      return body;
    });
    if (typeof res.content_uri !== 'string')
      throw new RemoteApiError('homeserver', 200, 'upload answered without content_uri');
    return res.content_uri;
  }

  async #withRetry<T>(what: string, policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
    let delay = policy.baseDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const e = toRemoteError(what, err);
        if (!e.retryable || attempt >= policy.maxAttempts) throw e;
        const wait = e.remoteStatus === 429 && e.retryAfterMs !== undefined ? e.retryAfterMs : delay;
        await this.#sleep(Math.min(wait, policy.maxDelayMs));
        if (e.remoteStatus !== 429 || e.retryAfterMs === undefined) delay = Math.min(delay * 2, policy.maxDelayMs);
      }
    }
  }
}

/** Turns an SDK error into our `RemoteApiError` (status 0 for network errors and timeouts). */
export function toRemoteError(what: string, err: unknown): RemoteApiError {
  if (err instanceof RemoteApiError) return err;
  if (err instanceof MatrixError) {
    const status = err.httpStatus ?? 0;
    let retryAfterMs: number | undefined;
    if (status === 429) retryAfterMs = retryAfter(err);
    return new RemoteApiError(
      'homeserver',
      status,
      `${what}: ${status} ${err.errcode ?? ''} ${err.data?.error ?? err.message}`.trim(),
      {
        remoteCode: err.errcode,
        retryAfterMs,
        cause: err,
      },
    );
  }
  const name = (err as Error)?.name;
  if (err instanceof ConnectionError || name === 'AbortError' || name === 'TimeoutError' || err instanceof TypeError) {
    return new RemoteApiError('homeserver', 0, `${what}: ${(err as Error).message}`, { cause: err });
  }
  return new RemoteApiError('homeserver', 0, `${what}: ${String((err as Error)?.message ?? err)}`, { cause: err });
}

/** `Retry-After` (seconds or HTTP date) first, then the deprecated body field `retry_after_ms`. */
function retryAfter(err: MatrixError): number | undefined {
  const header = err.httpHeaders?.get('retry-after');
  if (header) {
    const secs = Number(header);
    if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const ms = err.data?.retry_after_ms;
  return typeof ms === 'number' && ms >= 0 ? ms : undefined;
}

export { ClientPrefix };
