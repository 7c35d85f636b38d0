/**
 * Read-only Client-Server calls of the sync job: matrix-js-sdk's HTTP layer (`MatrixHttpApi.authedRequest`,
 * see src/matrix/http.ts) with the retry policy of issue 5 §7: 429 → wait `Retry-After` / `retry_after_ms`;
 * 5xx and network errors → capped exponential backoff; other errors fail at once. Sleeps are injected so
 * tests never wait on real time. Works with a user's access token or the appservice `as_token` alike.
 *
 * Not `MatrixApi` from src/matrix: that one is the appservice's (`as_token`, identity assertion per call);
 * the reader acts as one account, with any kind of token. Timeouts are unref'd timers cleared when a call
 * ends (`withTimeout`), which do not hold a finished CLI run open.
 */
import { RemoteApiError } from '../errors.ts';
import { type RetryPolicy, toRemoteError } from '../matrix/api.ts';
import { withTimeout } from '../matrix/fetch.ts';
import { createHttp, type IRequestOpts, Method, type SdkHttp } from '../matrix/http.ts';
import type { ClientEvent } from './room-info.ts';

export interface ReaderOptions {
  baseUrl: string;
  userId: string;
  accessToken: string;
  /**
   * The token is an appservice's `as_token`: every request asserts `user_id` = `userId` (spec, Application
   * Services "Identity assertion": `/sync` MUST be called as a virtual user given by `user_id`).
   */
  appservice?: boolean;
  /** Waits `ms` (tests pass a fake that records and returns at once). */
  sleep: (ms: number) => Promise<void>;
  retry?: Partial<RetryPolicy>;
}

export interface MessagesPage {
  start: string;
  end?: string;
  chunk: ClientEvent[];
}

/**
 * Events the job stores; the homeserver filters the rest out before sending. `m.sticker` is a message event of
 * its own type (spec "Sticker Messages"): mautrix-whatsapp bridges WhatsApp stickers as `m.sticker`.
 */
export const HISTORY_TYPES = [
  'm.room.message',
  'm.sticker',
  'm.room.encrypted',
  'm.reaction',
  'm.room.redaction',
  'm.room.member',
];

export class MatrixReader {
  readonly userId: string;
  readonly #http: SdkHttp;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #retry: RetryPolicy;
  readonly #assert: boolean;

  constructor(o: ReaderOptions) {
    this.userId = o.userId;
    this.#assert = o.appservice === true;
    this.#http = createHttp(o.baseUrl, o.accessToken);
    this.#sleep = o.sleep;
    this.#retry = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 30_000, ...o.retry };
  }

  joinedRooms(): Promise<string[]> {
    return this.#get<{ joined_rooms: string[] }>('/joined_rooms').then((r) => {
      if (!Array.isArray(r.joined_rooms))
        throw new RemoteApiError('homeserver', 200, '/joined_rooms: no joined_rooms array');
      return r.joined_rooms.filter((x): x is string => typeof x === 'string');
    });
  }

  /**
   * One `/sync` with a minimal timeline (a filter's `limit` must be greater than 0, spec `EventFilter`; the
   * events it returns are not used): its `next_batch` anchors the first backward walk and the forward
   * cursor (spec: `from` accepts `/sync` tokens), and `rooms.invite` lists the pending invites.
   */
  async anchor(): Promise<{ nextBatch: string; invites: string[] }> {
    const filter = {
      presence: { types: [] },
      account_data: { types: [] },
      room: { timeline: { limit: 1 }, state: { types: [] }, ephemeral: { types: [] }, account_data: { types: [] } },
    };
    const r = await this.#get<{ next_batch?: string; rooms?: { invite?: Record<string, unknown> } }>('/sync', {
      filter: JSON.stringify(filter),
      timeout: '0',
    });
    if (typeof r.next_batch !== 'string') throw new RemoteApiError('homeserver', 200, '/sync: no next_batch');
    return { nextBatch: r.next_batch, invites: Object.keys(r.rooms?.invite ?? {}) };
  }

  async join(roomId: string): Promise<void> {
    await this.#call(Method.Post, `/rooms/${encodeURIComponent(roomId)}/join`, undefined, {});
  }

  /**
   * `POST /join/{roomIdOrAlias}?via=…`: joins a room this account holds no invite to (an upgraded room's
   * successor), through servers participating in it. Returns the joined room's ID.
   */
  async joinVia(roomIdOrAlias: string, via: readonly string[]): Promise<string> {
    const r = await this.#call<{ room_id?: unknown }>(
      Method.Post,
      `/join/${encodeURIComponent(roomIdOrAlias)}`,
      via.length > 0 ? { via: [...via] } : undefined,
      {},
    );
    if (typeof r.room_id !== 'string') throw new RemoteApiError('homeserver', 200, '/join: no room_id in the answer');
    return r.room_id;
  }

  async roomState(roomId: string): Promise<ClientEvent[]> {
    const r = await this.#get<unknown>(`/rooms/${encodeURIComponent(roomId)}/state`);
    if (!Array.isArray(r)) throw new RemoteApiError('homeserver', 200, `/rooms/${roomId}/state: not an array`);
    return r.filter(isClientEvent);
  }

  async messages(roomId: string, from: string | undefined, dir: 'b' | 'f', limit: number): Promise<MessagesPage> {
    const q: Record<string, string> = { dir, limit: String(limit), filter: JSON.stringify({ types: HISTORY_TYPES }) };
    if (from !== undefined) q.from = from;
    const r = await this.#get<Partial<MessagesPage>>(`/rooms/${encodeURIComponent(roomId)}/messages`, q);
    if (!Array.isArray(r.chunk) || typeof r.start !== 'string') {
      throw new RemoteApiError('homeserver', 200, `/rooms/${roomId}/messages: malformed page`);
    }
    return {
      start: r.start,
      ...(typeof r.end === 'string' ? { end: r.end } : {}),
      chunk: r.chunk.filter(isClientEvent),
    };
  }

  /** The profile (displayname and custom fields), or undefined when the homeserver has none (404/403). */
  async profile(userId: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.#get<Record<string, unknown>>(`/profile/${encodeURIComponent(userId)}`);
    } catch (err) {
      if (err instanceof RemoteApiError && (err.remoteStatus === 404 || err.remoteStatus === 403)) return undefined;
      throw err;
    }
  }

  #get<T>(path: string, query?: Record<string, string>): Promise<T> {
    return this.#call<T>(Method.Get, path, query);
  }

  async #call<T>(
    method: Method,
    path: string,
    query?: Record<string, string | string[]>,
    body?: Record<string, unknown>,
  ): Promise<T> {
    const policy = this.#retry;
    if (this.#assert) query = { ...query, user_id: this.userId };
    let delay = policy.baseDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(60_000, (abortSignal) =>
          this.#http.authedRequest<T>(method, path, query, body, { abortSignal } as unknown as IRequestOpts),
        );
      } catch (err) {
        const e = toRemoteError(`${method} ${path}`, err);
        if (!e.retryable || attempt >= policy.maxAttempts) throw e;
        const serverWait = e.remoteStatus === 429 ? e.retryAfterMs : undefined;
        await this.#sleep(Math.min(serverWait ?? delay, policy.maxDelayMs));
        if (serverWait === undefined) delay = Math.min(delay * 2, policy.maxDelayMs);
      }
    }
  }
}

function isClientEvent(v: unknown): v is ClientEvent {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.event_id === 'string' &&
    typeof e.type === 'string' &&
    typeof e.sender === 'string' &&
    typeof e.origin_server_ts === 'number' &&
    e.content !== null &&
    typeof e.content === 'object'
  );
}
