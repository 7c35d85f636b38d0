/**
 * The Wazo accounts the bridge acts as: one client per logged-in puppet (built lazily from its encrypted
 * refresh token) and the relay. Also what only puppets can do: list their rooms (membership) and read history
 * (backfill after a reconnect), since a service token cannot read chatd rooms.
 */
import { type BridgeHost, type PuppetRecord, PuppetLoggedOutError } from '../bridge/index.ts';
import { describeError, RemoteApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type AuthClient, RenewingToken } from './auth.ts';
import { ChatdClient } from './chatd.ts';
import type { EchoGuard } from './echo.ts';
import type { WazoHttp } from './http.ts';
import type { Inbound } from './inbound.ts';
import { decodeCredentials } from './login.ts';
import { ReactingWazoPuppet, WazoPuppet } from './puppet.ts';
import type { RoomDirectory } from './rooms.ts';
import type { EncryptionKey } from '../db/token-crypto.ts';

export interface PuppetPoolOptions {
  http: WazoHttp;
  auth: AuthClient;
  key: EncryptionKey;
  clientId: string;
  echo: EchoGuard;
  now: () => number;
  log: Logger;
  reactions: boolean;
}

/** A room unknown to every puppet is looked up again at most this often. */
const ROOM_REFRESH_MS = 60_000;
/** Backfill overlap: history is re-read from a little before the cursor; dedupe drops what we had. */
export const BACKFILL_OVERLAP_MS = 5_000;

export class PuppetPool {
  readonly #o: PuppetPoolOptions;
  readonly #puppets = new Map<string, { credentials: string; puppet: WazoPuppet }>();
  readonly #chatd = new WeakMap<WazoPuppet, ChatdClient>();
  readonly #refresh = new Map<string, { at: number; run: Promise<void> }>();

  constructor(o: PuppetPoolOptions) {
    this.#o = o;
  }

  /** The relay account (a PBX user logged in with its password), posting with `alias`. */
  relay(username: string, password: string): WazoPuppet {
    const token = new RenewingToken({ now: this.#o.now, mint: () => this.#o.auth.passwordLogin(username, password) });
    return this.#make(new ChatdClient(this.#o.http, token), 'relay', () => token.userUuid);
  }

  /** The client of a stored puppet (cached per Matrix user). Throws PuppetLoggedOutError for unreadable credentials. */
  connect(record: PuppetRecord): WazoPuppet {
    // A new login (new credentials) gets a new client: the old one holds tokens from a refresh token that
    // logout deleted or Wazo rejected.
    const cached = this.#puppets.get(record.matrixUser);
    if (cached && cached.puppet.remoteUser === record.remoteUser && cached.credentials === record.credentials)
      return cached.puppet;
    let refreshToken: string;
    try {
      refreshToken = decodeCredentials(this.#o.key, record.matrixUser, record.credentials).refreshToken;
    } catch (err) {
      throw new PuppetLoggedOutError('stored Wazo login cannot be read; log in again', { cause: err });
    }
    const clientId = this.#o.clientId;
    const tokens = new RenewingToken({ now: this.#o.now, mint: () => this.#o.auth.refresh(refreshToken, clientId) });
    const p = this.#make(new ChatdClient(this.#o.http, tokens), 'puppet', () => tokens.userUuid, record.remoteUser);
    this.#puppets.set(record.matrixUser, { credentials: record.credentials, puppet: p });
    return p;
  }

  forget(record: PuppetRecord): void {
    this.#puppets.delete(record.matrixUser);
  }

  #make(chatd: ChatdClient, kind: 'puppet' | 'relay', user: () => string | undefined, fixedUser?: string): WazoPuppet {
    const deps = {
      chatd,
      get user() {
        return (fixedUser ?? user() ?? '').toLowerCase();
      },
      kind,
      echo: this.#o.echo,
      now: this.#o.now,
      log: this.#o.log,
    };
    const p = this.#o.reactions ? new ReactingWazoPuppet(deps) : new WazoPuppet(deps);
    this.#chatd.set(p, chatd);
    return p;
  }

  /** Refreshes the puppets' room lists so that `room`'s members become known; throttled per room. */
  refreshRooms(host: BridgeHost, rooms: RoomDirectory, room: string): Promise<void> {
    const last = this.#refresh.get(room);
    if (last && this.#o.now() - last.at < ROOM_REFRESH_MS) return last.run;
    const run = (async () => {
      for (const record of host.puppets()) {
        try {
          const chatd = this.#chatd.get(this.connect(record))!;
          for (const r of await chatd.listRooms()) rooms.addRoom(r);
        } catch (err) {
          host.log.warn({ err: describeError(err), user: record.matrixUser }, 'wazo: cannot list a puppet’s rooms');
        }
        if (rooms.get(room)?.complete) return;
      }
    })();
    this.#refresh.set(room, { at: this.#o.now(), run });
    return run;
  }

  /**
   * Reads every puppet's rooms from `cursor` (minus an overlap) on, oldest first, into `inbound`. A puppet or a
   * room that cannot be read is skipped (logged) so that the others are still read; `failed` counts them, and
   * the caller tries again later from the same `cursor`. A room shared by several puppets is read once.
   */
  async backfill(
    host: BridgeHost,
    rooms: RoomDirectory,
    inbound: Inbound,
    cursor: string,
  ): Promise<{ queued: number; failed: number }> {
    const from = new Date(Date.parse(cursor) - BACKFILL_OVERLAP_MS).toISOString();
    const generation = inbound.backfillStarted();
    const done = new Set<string>();
    let queued = 0;
    let failed = 0;
    for (const record of host.puppets()) {
      let chatd: ChatdClient;
      try {
        chatd = this.#chatd.get(this.connect(record))!;
      } catch (err) {
        // Unreadable credentials: the puppet is logged out and can never read; nothing to retry.
        host.log.warn({ err: describeError(err), user: record.matrixUser }, 'wazo backfill: puppet unusable');
        continue;
      }
      let list;
      try {
        list = await chatd.listRooms();
      } catch (err) {
        if (retryable(err)) failed++;
        host.log.warn(
          { err: describeError(err), user: record.matrixUser },
          'wazo backfill: cannot list a puppet’s rooms',
        );
        continue;
      }
      for (const r of list) rooms.addRoom(r);
      for (const r of list) {
        const id = r.uuid.toLowerCase();
        if (done.has(id)) continue;
        try {
          const msgs = await chatd.listMessages(r.uuid, { fromDate: from, direction: 'asc' });
          for (const m of msgs) if ((await inbound.ingest(m, 'backfill')) === 'queued') queued++;
          done.add(id);
        } catch (err) {
          if (retryable(err)) failed++;
          host.log.warn(
            { err: describeError(err), user: record.matrixUser, wazo_room: id },
            'wazo backfill: cannot read a room’s history',
          );
        }
      }
    }
    if (failed === 0) inbound.backfillDone(generation);
    if (queued > 0 || failed > 0) host.log.info({ queued, failed, from }, 'wazo backfill done');
    return { queued, failed };
  }
}

/** A failure that may pass (Wazo down, 5xx, timeout), unlike a refused login (401/403) or a room gone (404). */
function retryable(err: unknown): boolean {
  return !(err instanceof RemoteApiError && [401, 403, 404].includes(err.remoteStatus));
}
