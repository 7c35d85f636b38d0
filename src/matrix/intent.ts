/**
 * Intents: typed Client-Server calls made as one user (the bot or a ghost) through identity assertion.
 * Ghosts are registered lazily and at most once per process, even when many callers ask at the same time;
 * `M_USER_IN_USE` counts as success (the ghost survived a restart of the bridge).
 */
import { createHash } from 'node:crypto';
import { RemoteApiError } from '../errors.ts';
import type { MatrixApi } from './api.ts';

const enc = encodeURIComponent;

/** A deterministic, AS-wide unique transaction id for a send derived from a stable source key. */
export function txnIdFor(sourceKey: string): string {
  return `mcb.${createHash('sha256').update(sourceKey).digest('base64url').slice(0, 32)}`;
}

export interface CreateRoomRequest {
  preset?: 'private_chat' | 'trusted_private_chat' | 'public_chat';
  visibility?: 'private' | 'public';
  name?: string;
  topic?: string;
  invite?: string[];
  is_direct?: boolean;
  initial_state?: { type: string; state_key: string; content: Record<string, unknown> }[];
  power_level_content_override?: Record<string, unknown>;
  creation_content?: Record<string, unknown>;
}

/** Registers appservice users once per process; concurrent calls for one user share one request. */
export class GhostRegistrar {
  readonly #api: MatrixApi;
  readonly #done = new Set<string>();
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(api: MatrixApi) {
    this.#api = api;
  }

  /** Marks users known to exist (e.g. loaded from the database) so no request is made for them. */
  seed(userIds: Iterable<string>): void {
    for (const u of userIds) this.#done.add(u);
  }

  isRegistered(userId: string): boolean {
    return this.#done.has(userId);
  }

  /** Ensures the user exists on the homeserver. Resolves true when this call created it. */
  ensure(userId: string): Promise<void> {
    if (this.#done.has(userId)) return Promise.resolve();
    const running = this.#inflight.get(userId);
    if (running) return running;
    const p = this.#register(userId).finally(() => this.#inflight.delete(userId));
    this.#inflight.set(userId, p);
    return p;
  }

  async #register(userId: string): Promise<void> {
    const localpart = userId.slice(1, userId.indexOf(':'));
    try {
      await this.#api.request('POST', '/register', {
        body: { type: 'm.login.application_service', username: localpart, inhibit_login: true },
      });
    } catch (err) {
      if (!(err instanceof RemoteApiError && err.remoteCode === 'M_USER_IN_USE')) throw err;
      // Already registered (by us, before a restart): exactly what we wanted.
    }
    this.#done.add(userId);
  }
}

/** Calls made as one user. Cheap to create; holds no state besides the user id. */
export class Intent {
  readonly userId: string;
  readonly #api: MatrixApi;
  readonly #registrar: GhostRegistrar;

  constructor(api: MatrixApi, registrar: GhostRegistrar, userId: string) {
    this.#api = api;
    this.#registrar = registrar;
    this.userId = userId;
  }

  /** Registers the user if this process has not yet (idempotent, coalesced). */
  ensureRegistered(): Promise<void> {
    return this.#registrar.ensure(this.userId);
  }

  whoami(retry?: { maxAttempts: number }): Promise<{ user_id: string }> {
    return this.#api.request('GET', '/account/whoami', { userId: this.userId, retry });
  }

  setDisplayName(name: string): Promise<unknown> {
    return this.#api.request('PUT', `/profile/${enc(this.userId)}/displayname`, {
      userId: this.userId,
      body: { displayname: name },
    });
  }

  setAvatarUrl(mxc: string): Promise<unknown> {
    return this.#api.request('PUT', `/profile/${enc(this.userId)}/avatar_url`, {
      userId: this.userId,
      body: { avatar_url: mxc },
    });
  }

  /**
   * Sets a custom profile field (Matrix v1.16, e.g. `com.beeper.bridge.identifiers`). Homeservers without
   * custom fields answer 4xx: the caller decides whether that matters.
   */
  setProfileField(key: string, value: unknown): Promise<unknown> {
    return this.#api.request('PUT', `/profile/${enc(this.userId)}/${enc(key)}`, {
      userId: this.userId,
      body: { [key]: value },
    });
  }

  /** Reads a profile (this user's by default); a missing profile is `{}`. */
  async getProfile(of: string = this.userId): Promise<{ displayname?: string; avatar_url?: string }> {
    try {
      return await this.#api.request('GET', `/profile/${enc(of)}`, { userId: this.userId });
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 404) return {};
      throw err;
    }
  }

  /** Rooms this user has joined (`GET /joined_rooms`). */
  async joinedRooms(): Promise<string[]> {
    const res = await this.#api.request<{ joined_rooms: string[] }>('GET', '/joined_rooms', { userId: this.userId });
    return res.joined_rooms;
  }

  /** Content of one state event, or undefined when the room has none (404). */
  async stateEvent(roomId: string, type: string, stateKey: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.#api.request('GET', `/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, {
        userId: this.userId,
      });
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 404) return undefined;
      throw err;
    }
  }

  /** The room's member events (`GET /rooms/{roomId}/members`) as `[user, membership]` pairs. */
  async members(roomId: string): Promise<{ userId: string; membership: string }[]> {
    const res = await this.#api.request<{ chunk: { state_key?: string; content?: { membership?: unknown } }[] }>(
      'GET',
      `/rooms/${enc(roomId)}/members`,
      { userId: this.userId },
    );
    return res.chunk.flatMap((e) =>
      typeof e.state_key === 'string' && typeof e.content?.membership === 'string'
        ? [{ userId: e.state_key, membership: e.content.membership }]
        : [],
    );
  }

  /** One event as this user may see it (`GET /rooms/{roomId}/event/{eventId}`), or undefined when not found (404). */
  async event(
    roomId: string,
    eventId: string,
  ): Promise<{ type: string; sender: string; state_key?: string; content: Record<string, unknown> } | undefined> {
    try {
      return await this.#api.request('GET', `/rooms/${enc(roomId)}/event/${enc(eventId)}`, { userId: this.userId });
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 404) return undefined;
      throw err;
    }
  }

  async createRoom(req: CreateRoomRequest): Promise<string> {
    const res = await this.#api.request<{ room_id: string }>('POST', '/createRoom', { userId: this.userId, body: req });
    return res.room_id;
  }

  /** Invites `target`; an invitee already joined (403 "already in the room") counts as success. */
  async invite(roomId: string, target: string): Promise<void> {
    try {
      await this.#api.request('POST', `/rooms/${enc(roomId)}/invite`, {
        userId: this.userId,
        body: { user_id: target },
      });
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 403 && /already in the room/i.test(err.message)) return;
      throw err;
    }
  }

  async join(roomIdOrAlias: string): Promise<string> {
    const res = await this.#api.request<{ room_id: string }>('POST', `/join/${enc(roomIdOrAlias)}`, {
      userId: this.userId,
      body: {},
    });
    return res.room_id;
  }

  leave(roomId: string): Promise<unknown> {
    return this.#api.request('POST', `/rooms/${enc(roomId)}/leave`, { userId: this.userId, body: {} });
  }

  /** Sends an event with a caller-chosen deterministic txnId; `ts` (appservice only) keeps an original time. */
  async sendEvent(
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    txnId: string,
    ts?: number,
  ): Promise<string> {
    const res = await this.#api.request<{ event_id: string }>(
      'PUT',
      `/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`,
      {
        userId: this.userId,
        body: content,
        query: { ts: ts === undefined ? undefined : String(Math.trunc(ts)) },
      },
    );
    return res.event_id;
  }

  async sendState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<string> {
    const res = await this.#api.request<{ event_id: string }>(
      'PUT',
      `/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
      {
        userId: this.userId,
        body: content,
      },
    );
    return res.event_id;
  }

  async redact(roomId: string, eventId: string, txnId: string, reason?: string): Promise<string> {
    const res = await this.#api.request<{ event_id: string }>(
      'PUT',
      `/rooms/${enc(roomId)}/redact/${enc(eventId)}/${enc(txnId)}`,
      {
        userId: this.userId,
        body: reason ? { reason } : {},
      },
    );
    return res.event_id;
  }

  upload(bytes: Uint8Array, contentType: string, filename: string): Promise<string> {
    return this.#api.upload(bytes, contentType, filename, this.userId);
  }
}

/** Hands out intents for the bot and for any user in our namespace, sharing one registrar. */
export class IntentFactory {
  readonly api: MatrixApi;
  readonly registrar: GhostRegistrar;
  readonly bot: Intent;

  constructor(api: MatrixApi) {
    this.api = api;
    this.registrar = new GhostRegistrar(api);
    this.bot = new Intent(api, this.registrar, api.botUserId);
  }

  intent(userId: string): Intent {
    return userId === this.api.botUserId ? this.bot : new Intent(this.api, this.registrar, userId);
  }
}
