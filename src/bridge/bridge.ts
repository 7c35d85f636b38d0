/**
 * The bridge core, assembled: accepts appservice transactions durably, offers the {@link BridgeHost} to the
 * connector, and runs the outbox worker whose rows are handled by the Matrix → remote and remote → Matrix
 * handlers. Generic over the remote network.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type DatabaseHandle, type EncryptionKey, groupCommit } from '../db/index.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Counter, getOrCreate, type Registry } from '../metrics.ts';
import { abortableSleep, IntentFactory, type MatrixApi, realSleep, txnIdFor } from '../matrix/index.ts';
import { BridgeBot } from './bot.ts';
import type { BridgeHost, NetworkConnector, PuppetClient, PuppetRecord, RemoteEvent } from './connector.ts';
import { type BridgeOptions, type CoreContext, DOUBLE_PUPPET_KEY, DOUBLE_PUPPET_SOURCE } from './context.ts';
import { MatrixHandler, parseMatrixEvent } from './from-matrix.ts';
import { MatrixTokens } from './matrix-tokens.ts';
import type { MatrixUserId, RemoteMessageId, RemoteRoomId, RemoteUserId } from './ids.ts';
import { Outbox } from './outbox.ts';
import { PortalManager } from './portals.ts';
import { BridgeStore, matrixEventKey, type OutboxRow } from './store.ts';
import { handleRemoteEvent, parseRemoteEvent, serializeRemoteEvent } from './to-matrix.ts';

export interface BridgeDeps {
  database: DatabaseHandle;
  api: MatrixApi;
  connector?: NetworkConnector;
  /** The double-puppeting registration's client (`[bridge.double_puppet]`), acting as real users. */
  doublePuppetApi?: MatrixApi;
  /** `[bridge] encryption_key`: encrypts the access tokens users give with `login-matrix` (off without it). */
  encryptionKey?: EncryptionKey;
  options: BridgeOptions;
  log: Logger;
  metrics: Registry;
  now?: () => number;
  /** Waits between retries; tests inject an immediate one. */
  sleep?: (ms: number) => Promise<void>;
}

const DONE_RETENTION_MS = 7 * 24 * 3600_000;

export class Bridge implements BridgeHost {
  readonly log: Logger;
  readonly store: BridgeStore;
  readonly intents: IntentFactory;
  readonly outbox: Outbox;
  readonly portals: PortalManager;
  readonly bot: BridgeBot;
  readonly #ctx: CoreContext;
  readonly #matrix: MatrixHandler;
  readonly #tokenHash: string;
  readonly #connector: NetworkConnector | undefined;
  /** Puppet clients per Matrix user, with the stored account and credentials they were built from. */
  readonly #puppets = new Map<string, { remoteUser: string; credentials: string; client: Promise<PuppetClient> }>();
  readonly #txns: Counter;
  readonly #sleep: (ms: number) => Promise<void>;
  #abort = new AbortController();

  constructor(d: BridgeDeps) {
    const now = d.now ?? Date.now;
    this.#sleep = d.sleep ?? realSleep;
    this.log = d.log.child({ component: 'bridge' });
    this.store = new BridgeStore(d.database);
    groupCommit(d.database.sqlite).onError = (err) =>
      this.log.error({ err: describeError(err) }, 'SQLite group commit failed; its writes were rolled back');
    this.intents = new IntentFactory(d.api);
    this.#connector = d.connector;
    this.#tokenHash = createHash('sha256').update(d.options.hsToken).digest('hex');
    const o = d.options;
    const botUserId = `@${o.botLocalpart}:${o.domain}` as MatrixUserId;
    const ghostPrefix = `@${o.ghostPrefix}`;
    const suffix = `:${o.domain}`;
    const ctx: CoreContext = {
      opts: o,
      store: this.store,
      intents: this.intents,
      doublePuppet: d.doublePuppetApi ? new IntentFactory(d.doublePuppetApi) : undefined,
      matrixTokens: new MatrixTokens({
        store: this.store,
        api: d.api,
        key: d.encryptionKey,
        domain: o.domain,
        log: this.log,
        now,
      }),
      connector: d.connector,
      log: this.log,
      now,
      botUserId,
      ghostUserId: (remote) => `${ghostPrefix}${d.connector!.ghostLocalpart(remote)}${suffix}` as MatrixUserId,
      remoteForGhost: (userId) =>
        d.connector && userId.startsWith(ghostPrefix) && userId.endsWith(suffix)
          ? d.connector.parseGhostLocalpart(userId.slice(ghostPrefix.length, -suffix.length))
          : undefined,
      isOurs: (userId) => userId === botUserId || (userId.startsWith(ghostPrefix) && userId.endsWith(suffix)),
      puppetClient: (user) => this.#puppetClient(user),
      notice: (roomId, text, key) => this.#notice(roomId, text, key),
    };
    this.#ctx = ctx;
    this.portals = new PortalManager(ctx);
    this.bot = new BridgeBot(ctx, {
      outboxDepth: () => ({ ...this.store.outboxDepth(), failed: this.store.outboxFailedCount() }),
    });
    this.#matrix = new MatrixHandler(ctx, this.bot, this.portals);
    this.outbox = new Outbox({
      store: this.store,
      log: this.log,
      metrics: d.metrics,
      now,
      sleep: this.#sleep,
      handle: (row) => this.#handle(row),
    });
    this.#txns = getOrCreate(
      d.metrics,
      'mcb_appservice_transactions_total',
      () =>
        new Counter({
          name: 'mcb_appservice_transactions_total',
          help: 'Appservice transactions received',
          labelNames: ['result'],
          registers: [d.metrics],
        }),
    );
  }

  get botUserId(): MatrixUserId {
    return this.#ctx.botUserId;
  }

  /** Loads pending work, makes sure the bot exists (in the background), and starts the connector. */
  async start(signal?: AbortSignal): Promise<void> {
    if (signal) signal.addEventListener('abort', () => this.#abort.abort(), { once: true });
    this.store.outboxPrune(this.#ctx.now() - DONE_RETENTION_MS);
    void this.#initBot().catch((err) => {
      // Only reached when stopping: the bot is retried until then, and the outbox keeps every message.
      this.log.warn({ err: describeError(err) }, 'bot set-up stopped');
    });
    this.outbox.resume();
    if (this.#connector) await this.#connector.start(this, this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.outbox.stop();
    await this.#connector?.stop();
    // The bot set-up is not awaited: it only retries HTTP calls, ends by itself after the abort, and catches its errors.
  }

  /** Resolves when the outbox has nothing running (tests). */
  idle(): Promise<void> {
    return this.outbox.idle();
  }

  async #initBot(): Promise<void> {
    const bot = this.intents.bot;
    for (let attempt = 0; !this.#abort.signal.aborted; attempt++) {
      try {
        await bot.ensureRegistered();
        const name = this.#ctx.opts.botDisplayName ?? `${this.#connector?.displayName ?? 'Matrix'} bridge bot`;
        const profile = await bot.getProfile();
        if (profile.displayname !== name) await bot.setDisplayName(name);
        this.log.info({ user_id: bot.userId }, 'bridge bot ready');
        return;
      } catch (err) {
        this.log.warn({ err: describeError(err), attempt }, 'bridge bot set-up failed; retrying');
        await abortableSleep(this.#sleep, this.#abort.signal)(Math.min(1000 * 2 ** attempt, 60_000));
      }
    }
  }

  // ------------------------------------------------------------------ appservice API handler

  /**
   * Records the events of a transaction durably (atomically, in the turn's group commit), starts their
   * delivery, and resolves once they are committed: only then may the homeserver get its 200.
   */
  async acceptTransaction(
    txnId: string,
    events: unknown[],
    _ephemeral: unknown[],
  ): Promise<{ duplicate: boolean; accepted: number }> {
    const store = this.store;
    if (store.txnSeen(this.#tokenHash, txnId)) {
      // Seen, but possibly still in this turn's batch (a retry racing the first attempt).
      await store.durable();
      this.#txns.inc({ result: 'duplicate' });
      return { duplicate: true, accepted: 0 };
    }
    const now = this.#ctx.now();
    const rows: OutboxRow[] = [];
    store.batched(() => {
      for (const raw of events) {
        const ev = parseMatrixEvent(raw);
        if (!ev) {
          this.log.warn(
            { txn_id: txnId, event_id: (raw as { event_id?: unknown })?.event_id },
            'skipping an event that cannot be understood',
          );
          continue;
        }
        if (this.#ctx.isOurs(ev.sender)) continue; // echo suppression: our own events are never stored
        // …nor those we sent as a real user (double puppeting: the user's own token or the registration).
        if (ev.content?.[DOUBLE_PUPPET_KEY] === DOUBLE_PUPPET_SOURCE) continue;
        const row = store.outboxInsert('matrix', ev.room_id, matrixEventKey(ev.event_id), JSON.stringify(ev), now);
        if (row) rows.push(row);
      }
      // A transaction made only of our own events (the echo of every message we send) changes nothing when
      // replayed, so it costs no write; any other is recorded with its events, in the same commit.
      if (rows.length > 0) store.txnRecord(this.#tokenHash, txnId, rows.length, now);
    });
    // Handed over only now that the batch succeeded (a failed one leaves nothing to deliver).
    for (const row of rows) this.outbox.enqueue(row);
    await store.durable();
    this.#txns.inc({ result: 'accepted' });
    return { duplicate: false, accepted: rows.length };
  }

  /** `GET /users/{userId}`: the bot or a ghost of a remote user the connector knows → registered now. */
  async queryUser(userId: string): Promise<boolean> {
    if (userId === this.#ctx.botUserId) {
      await this.intents.bot.ensureRegistered();
      return true;
    }
    const remote = this.#ctx.remoteForGhost(userId);
    if (!remote) return false;
    try {
      await this.portals.ensureGhost(remote);
      return true;
    } catch (err) {
      this.log.info({ user_id: userId, err: describeError(err) }, 'user query: cannot provide this ghost');
      return false;
    }
  }

  /** `GET /rooms/{alias}`: portals are never created from an alias. */
  async queryRoomAlias(_alias: string): Promise<boolean> {
    return false;
  }

  // ------------------------------------------------------------------ BridgeHost

  async queueRemoteEvent(ev: RemoteEvent): Promise<void> {
    const now = this.#ctx.now();
    let key: string;
    let dedupe: string;
    if (ev.kind === 'message') {
      if (this.store.eventForRemote(ev.remoteId)) return;
      key = `r:${ev.portal.id}`;
      dedupe = `r:${ev.remoteId}`;
    } else if (ev.kind === 'room-info') {
      key = `r:${ev.portal.id}`;
      dedupe = `i:${randomUUID()}`;
    } else {
      key = `g:${ev.user}`;
      dedupe = `i:${randomUUID()}`;
    }
    const row = this.store.outboxInsert('remote', key, dedupe, serializeRemoteEvent(ev), now);
    if (row) this.outbox.enqueue(row);
  }

  isKnownMessage(remoteId: RemoteMessageId): boolean {
    return this.store.outboxHas(`r:${remoteId}`) || this.store.eventForRemote(remoteId) !== undefined;
  }

  hasPortal(room: RemoteRoomId): boolean {
    return Boolean(this.store.portalByRemote(room)?.matrixRoomId);
  }

  matrixUserFor(remote: RemoteUserId): MatrixUserId | undefined {
    return this.store.puppets().find((p) => p.remoteUserId === remote && !p.loggedOut)?.matrixUserId as
      MatrixUserId | undefined;
  }

  puppets(): PuppetRecord[] {
    return this.store
      .puppets()
      .filter((p) => !p.loggedOut)
      .map((p) => ({
        matrixUser: p.matrixUserId as MatrixUserId,
        remoteUser: p.remoteUserId as RemoteUserId,
        remoteName: p.remoteName,
        credentials: p.credentials,
      }));
  }

  updatePuppetCredentials(user: MatrixUserId, credentials: string): void {
    this.store.puppetCredentials(user, credentials);
  }

  async notifyUser(user: MatrixUserId, text: string): Promise<void> {
    const room = this.store.managementRoom(user);
    if (!room) {
      this.log.info({ user }, 'no management room to notify the user in');
      return;
    }
    await this.#notice(room, text);
  }

  async notifyPortal(room: RemoteRoomId, text: string): Promise<void> {
    const roomId = this.store.portalByRemote(room)?.matrixRoomId;
    if (roomId) await this.#notice(roomId, text);
  }

  // ------------------------------------------------------------------ internals

  async #handle(row: OutboxRow): Promise<void> {
    if (row.lane === 'matrix') {
      await this.#matrix.handle(JSON.parse(row.payload));
      return;
    }
    await handleRemoteEvent(this.#ctx, this.portals, parseRemoteEvent(row.payload));
  }

  async #puppetClient(user: MatrixUserId): Promise<PuppetClient | undefined> {
    const row = this.store.puppet(user);
    if (!row || row.loggedOut || !this.#connector) return undefined;
    // Built again when the stored credentials change: after a logout or a rejected login, a new `login`
    // stores new ones, and the client built from the old ones (e.g. a revoked refresh token) must not be used.
    const cached = this.#puppets.get(user);
    if (cached && cached.remoteUser === row.remoteUserId && cached.credentials === row.credentials)
      return cached.client;
    const client = this.#connector.connectPuppet({
      matrixUser: user,
      remoteUser: row.remoteUserId as RemoteUserId,
      remoteName: row.remoteName,
      credentials: row.credentials,
    });
    const entry = { remoteUser: row.remoteUserId, credentials: row.credentials, client };
    client.catch(() => {
      if (this.#puppets.get(user) === entry) this.#puppets.delete(user);
    });
    this.#puppets.set(user, entry);
    return client;
  }

  async #notice(roomId: string, text: string, key?: string): Promise<void> {
    try {
      await this.intents.bot.sendEvent(
        roomId,
        'm.room.message',
        { msgtype: 'm.notice', body: text },
        txnIdFor(`notice:${key ?? randomUUID()}`),
      );
    } catch (err) {
      // A notice is informative only; losing one must not block the room's queue.
      this.log.warn({ room_id: roomId, err: describeError(err) }, 'could not send a bot notice');
    }
  }
}
