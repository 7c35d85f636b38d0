/**
 * The Wazo connector: implements the core's NetworkConnector (+ LoginConnector). Owns the shared Wazo
 * connections (service token, websocketd or the webhook sub-app, confd directory, relay account) and turns
 * Wazo events into RemoteEvents. Knows nothing about Matrix rooms or how mappings are stored.
 */
import {
  type BridgeHost,
  type GhostInfo,
  type LoginConnector,
  type LoginProcess,
  type MatrixUserId,
  type NetworkStatus,
  type NeutralMedia,
  type PortalKey,
  type PuppetClient,
  type PuppetRecord,
  type RemoteUserId,
  type RoomInfo,
  remoteUserId,
} from '../bridge/index.ts';
import type { Config } from '../config/index.ts';
import { parseEncryptionKey } from '../db/token-crypto.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { AuthClient, RenewingToken } from './auth.ts';
import { ConfdClient, UserDirectory } from './confd.ts';
import { type CursorStore, memoryCursor } from './cursor-store.ts';
import { EchoGuard } from './echo.ts';
import { createMarkdown } from './from-wazo.ts';
import { WazoHttp } from './http.ts';
import { isUuid } from './ids.ts';
import { type InboxStore, memoryInbox } from './inbox.ts';
import { detectMediaUrl, downloadMedia } from './media.ts';
import { Inbound, type IngestResult, type IngestSource } from './inbound.ts';
import { type LoginDeps, revokePuppet, WazoLogin } from './login.ts';
import type { WazoPuppet } from './puppet.ts';
import { PuppetPool } from './puppet-pool.ts';
import { createdAtKey } from './reorder.ts';
import { RoomDirectory } from './rooms.ts';
import { CHAT_EVENTS, parseChatEvent, type WazoChatEvent } from './schemas.ts';
import { type Clock, systemClock } from './timers.ts';
import { WazoEventStream } from './websocket.ts';
import { keepSubscription, WebhookdClient } from './webhookd.ts';

/** After a failed confd lookup for a sender, their next messages do not ask again before this delay. */
const GHOST_RETRY_MS = 60_000;
/** What the core holds for a sender whose ghost it made before this process started: unknown. */
const UNKNOWN_PROFILE = '?';

export interface WazoConnectorOptions {
  wazo: Config['wazo'];
  bridge: Config['bridge'];
  log: Logger;
  clock?: Clock;
  cursor?: CursorStore;
  /** Durable holding area for acknowledged webhook messages (default: in memory). */
  inbox?: InboxStore;
  /** Reports the Wazo upstream state (health registry). */
  onHealth?: (ok: boolean, detail: string) => void;
  /** Benchmark hook: a message left the reorder window after `heldMs`. */
  onEmit?: (uuid: string, heldMs: number) => void;
  /** Benchmark hook: a message copy entered the connector. */
  onReceive?: (uuid: string) => void;
  /** Benchmark hook: the core has queued the message (outbox row written). */
  onQueued?: (uuid: string) => void;
  /** Websocket backoff override (tests). */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  /** Websocket ping interval (default 30 s). */
  pingIntervalMs?: number;
  /** Per-request timeout towards Wazo (default 15 s). */
  httpTimeoutMs?: number;
}

export class WazoConnector implements LoginConnector {
  readonly network = 'wazo';
  readonly displayName = 'Wazo';
  readonly #o: WazoConnectorOptions;
  readonly #clock: Clock;
  readonly #http: WazoHttp;
  readonly #auth: AuthClient;
  readonly #service: RenewingToken;
  readonly #directory: UserDirectory;
  readonly #rooms = new RoomDirectory();
  readonly #echo: EchoGuard;
  readonly #md = createMarkdown();
  readonly #cursor: CursorStore;
  readonly #loginDeps: LoginDeps;
  readonly #pool: PuppetPool;
  #relay: WazoPuppet | undefined;
  #host: BridgeHost | undefined;
  #inbound: Inbound | undefined;
  #stream: WazoEventStream | undefined;
  #status: NetworkStatus = { ok: false, detail: 'not started' };

  constructor(opts: WazoConnectorOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#echo = new EchoGuard(undefined, this.#clock.now);
    const w = opts.wazo;
    this.#http = new WazoHttp({
      baseUrl: w.url,
      verifyTls: w.verify_tls,
      tenant: w.tenant,
      timeoutMs: opts.httpTimeoutMs,
    });
    this.#auth = new AuthClient(this.#http);
    const user = w.service_username;
    const pass = w.service_password;
    this.#service = new RenewingToken({
      now: this.#clock.now,
      mint: () => {
        if (!user || !pass) throw new Error('MCB_WAZO_SERVICE_USERNAME / MCB_WAZO_SERVICE_PASSWORD are not set');
        return this.#auth.passwordLogin(user, pass);
      },
    });
    const confd = new ConfdClient(this.#http, this.#service);
    this.#directory = new UserDirectory({ fetch: (u) => confd.usersByUuid(u), now: this.#clock.now });
    this.#cursor = opts.cursor ?? memoryCursor();
    this.#loginDeps = {
      auth: this.#auth,
      directory: this.#directory,
      key: parseEncryptionKey(opts.bridge.encryption_key),
      clientId: w.client_id,
    };
    this.#pool = new PuppetPool({
      http: this.#http,
      auth: this.#auth,
      key: this.#loginDeps.key,
      clientId: w.client_id,
      echo: this.#echo,
      now: this.#clock.now,
      log: opts.log,
      reactions: opts.bridge.reactions,
    });
    if (opts.bridge.relay && w.relay_username && w.relay_password)
      this.#relay = this.#pool.relay(w.relay_username, w.relay_password);
  }

  /** The reorder window: `[wazo] reorder_window_ms`, default 300 ms for webhooks and 0 for the websocket. */
  get reorderWindowMs(): number {
    return this.#o.wazo.reorder_window_ms ?? (this.#o.wazo.events === 'webhook' ? 300 : 0);
  }

  async start(host: BridgeHost, signal: AbortSignal): Promise<void> {
    this.#host = host;
    this.#inbound = new Inbound({
      host,
      rooms: this.#rooms,
      refreshRooms: (room) => this.#pool.refreshRooms(host, this.#rooms, room),
      echo: this.#echo,
      cursor: this.#cursor,
      inbox: this.#o.inbox ?? memoryInbox(),
      md: this.#md,
      clock: this.#clock,
      windowMs: this.reorderWindowMs,
      bridgeAllRooms: this.#o.wazo.bridge_all_rooms,
      onEmit: this.#o.onEmit,
      onQueued: this.#o.onQueued,
      onReceive: this.#o.onReceive,
      onSender: (user) => this.#checkGhost(user),
      media: this.#o.bridge.media ? (content) => this.#fetchMedia(content) : undefined,
    });
    if (this.#cursor.get() === undefined) this.#cursor.advance(new Date(this.#clock.now()).toISOString());
    signal.addEventListener('abort', () => this.#stream?.stop(), { once: true });
    const left = await this.#inbound.replayInbox();
    if (left > 0) host.log.info({ messages: left }, 'wazo: replayed webhook messages accepted before a restart');
    if (this.#o.wazo.events === 'websocket') {
      this.#stream = new WazoEventStream({
        url: this.websocketUrl,
        tokens: this.#service,
        events: CHAT_EVENTS,
        verifyTls: this.#o.wazo.verify_tls,
        clock: this.#clock,
        log: host.log,
        backoff: this.#o.backoff,
        random: this.#o.random,
        pingIntervalMs: this.#o.pingIntervalMs,
        onEvent: (env) => this.#onWebsocketEvent(env),
        onConnected: () => {
          this.#setStatus(true, `connected to ${new URL(this.#o.wazo.url).host} (websocket)`);
          // Backfill runs in the background; its failures are logged and retried at the next connect.
          void this.backfill().catch((err: unknown) =>
            host.log.warn({ err: describeError(err) }, 'wazo backfill failed'),
          );
        },
        onState: (state, detail) => {
          if (state === 'disconnected') this.#setStatus(false, detail);
        },
      });
      this.#stream.start();
    } else {
      this.#setStatus(true, 'waiting for webhooks');
      if (this.#o.wazo.manage_subscription) void this.#ensureSubscription(signal);
      // A restart may have missed messages while the bridge was down; webhookd retries cover most, history covers the rest.
      void this.backfill().catch((err: unknown) => host.log.warn({ err: describeError(err) }, 'wazo backfill failed'));
    }
  }

  /** `[bridge] media = true`: a message that is only a link to a file becomes media bytes for the core to upload. */
  async #fetchMedia(content: string): Promise<NeutralMedia | undefined> {
    const found = detectMediaUrl(content);
    if (!found) return undefined;
    const wazoHost = new URL(this.#o.wazo.url).host;
    const got = await downloadMedia(found.url, {
      maxBytes: 20 * 1024 * 1024,
      timeoutMs: 15_000,
      // Files stored on the Wazo server itself may be on a private network; other private hosts are refused.
      allowedHosts: [wazoHost, ...this.#o.bridge.media_hosts],
      // `[wazo] verify_tls = false` (a lab Wazo's self-signed certificate) covers the Wazo server only.
      unverifiedTlsHosts: this.#o.wazo.verify_tls ? [] : [wazoHost],
    });
    if (!got) return undefined;
    return {
      kind: found.kind,
      name: found.name,
      mimeType: got.mime ?? found.mime,
      size: got.bytes.byteLength,
      bytes: got.bytes,
      url: found.url,
    };
  }

  /** Messages waiting in the reorder window. */
  get held(): number {
    return this.#inbound?.held ?? 0;
  }

  /** True while the websocket feed is connected. */
  get streaming(): boolean {
    return this.#stream?.connected ?? false;
  }

  get websocketUrl(): string {
    if (this.#o.wazo.websocket_url) return this.#o.wazo.websocket_url;
    const u = new URL(this.#o.wazo.url);
    return `${u.protocol === 'http:' ? 'ws' : 'wss'}://${u.host}/api/websocketd/`;
  }

  async #ensureSubscription(signal: AbortSignal): Promise<void> {
    const secret = this.#o.wazo.webhook_secret;
    if (!secret || !this.#o.wazo.public_url) {
      this.#host?.log.error('wazo: manage_subscription needs [wazo] public_url and MCB_WAZO_WEBHOOK_SECRET');
      return;
    }
    const url = `${this.#o.wazo.public_url.replace(/\/+$/, '')}/wazo/events/${secret}`;
    const r = await keepSubscription(
      new WebhookdClient(this.#http, this.#service),
      { url, verifyTls: this.#o.wazo.verify_tls },
      {
        signal,
        wait: (ms) => new Promise<void>((res) => this.#clock.setTimeout(res, ms)),
        onError: (err) => this.#setStatus(false, `webhook subscription: ${describeError(err)}`),
      },
    );
    if (r) this.#host?.log.info({ action: r.action, subscription: r.uuid }, 'wazo webhook subscription ready');
  }

  /** Handles a webhook event (the sub-app calls this). Throws while not started, so webhookd retries. */
  handleWebhookEvent(ev: WazoChatEvent): Promise<IngestResult | 'room'> {
    return this.#handle(ev, 'webhook');
  }

  #onWebsocketEvent(envelope: unknown): void {
    const parsed = parseChatEvent(envelope);
    if (!parsed.ok) {
      if (parsed.reason === 'invalid')
        this.#host?.log.warn({ detail: parsed.detail.slice(0, 300) }, 'wazo websocket: invalid event skipped');
      return;
    }
    this.#handle(parsed.event, 'websocket').catch((err: unknown) => {
      // The message stays unseen, so the next reconnect's backfill picks it up again.
      this.#host?.log.warn({ err: describeError(err) }, 'wazo websocket: event not queued');
    });
  }

  async #handle(ev: WazoChatEvent, source: IngestSource): Promise<IngestResult | 'room'> {
    const inbound = this.#inbound;
    if (!inbound) throw new Error('wazo connector not started');
    if (ev.name === 'chatd_user_room_created') {
      this.#rooms.addRoom(ev.data);
      return 'room';
    }
    return inbound.ingest(ev.data, source, ev.recipient);
  }

  /** Profiles last given to the core, to notice confd changes (name, email, phone) on later messages. */
  readonly #ghostProfiles = new Map<string, string>();
  /** Senders whose confd lookup failed → when to try again (not on every message while confd is down). */
  readonly #ghostRetryAt = new Map<string, number>();

  /**
   * Queues a `ghost-info` update when the sender's confd profile differs from the one last given to the core
   * (the directory cache bounds the cost). The core asks `getGhostInfo` when it makes a ghost; a sender it did
   * not ask about (a ghost stored before a restart) is compared from their second message on, against nothing:
   * the core then gets the profile once, and applies only what changed.
   */
  #checkGhost(user: string): void {
    if (!this.#ghostProfiles.has(user)) {
      this.#ghostProfiles.set(user, UNKNOWN_PROFILE);
      return;
    }
    const retryAt = this.#ghostRetryAt.get(user);
    if (retryAt !== undefined && this.#clock.now() < retryAt) return;
    this.#profile(user)
      .then(async (info) => {
        this.#ghostRetryAt.delete(user);
        const key = JSON.stringify(info);
        if (info.name === undefined || this.#ghostProfiles.get(user) === key) return;
        this.#ghostProfiles.set(user, key);
        await this.#host?.queueRemoteEvent({ kind: 'ghost-info', user: remoteUserId(user), info });
      })
      .catch((err: unknown) => {
        // The ghost keeps its previous profile; a later message tries again.
        this.#ghostRetryAt.set(user, this.#clock.now() + GHOST_RETRY_MS);
        this.#o.log.warn({ err: describeError(err), wazo_user: user }, 'wazo: ghost profile update not queued');
      });
  }

  /** Where an unfinished backfill (a puppet or room that could not be read) must start again. */
  #backfillFrom: string | undefined;
  #backfillTimer: unknown;
  #backfillFailures = 0;
  #backfillChain: Promise<unknown> = Promise.resolve();

  /**
   * Reads each puppet's rooms from the cursor on (direction asc) and ingests what it finds. Runs one at a time.
   * When a puppet or a room could not be read (Wazo down), it is tried again later (30 s, doubling up to 10 min)
   * from the same point, although live messages move the cursor on in the meantime.
   */
  backfill(): Promise<number> {
    const run = this.#backfillChain.then(() => this.#backfillOnce());
    this.#backfillChain = run.catch(() => undefined);
    return run;
  }

  async #backfillOnce(): Promise<number> {
    const cursor = this.#cursor.get();
    const host = this.#host;
    if (!host || !this.#inbound || cursor === undefined) return 0;
    if (this.#backfillTimer !== undefined) this.#clock.clearTimeout(this.#backfillTimer);
    this.#backfillTimer = undefined;
    const pending = this.#backfillFrom;
    const from = pending !== undefined && createdAtKey(pending) < createdAtKey(cursor) ? pending : cursor;
    this.#backfillFrom = from;
    let failed = 1;
    try {
      const r = await this.#pool.backfill(host, this.#rooms, this.#inbound, from);
      failed = r.failed;
      return r.queued;
    } finally {
      if (failed === 0) {
        this.#backfillFrom = undefined;
        this.#backfillFailures = 0;
      } else if (!this.#stopped) {
        const delay = Math.min(600_000, 30_000 * 2 ** Math.min(10, this.#backfillFailures++));
        host.log.warn({ delay_ms: delay, from }, 'wazo backfill incomplete; trying again later');
        this.#backfillTimer = this.#clock.setTimeout(() => {
          this.#backfillTimer = undefined;
          void this.backfill().catch((err: unknown) =>
            host.log.warn({ err: describeError(err) }, 'wazo backfill failed'),
          );
        }, delay);
      }
    }
  }

  #stopped = false;

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#backfillTimer !== undefined) this.#clock.clearTimeout(this.#backfillTimer);
    this.#backfillTimer = undefined;
    this.#stream?.stop();
    this.#inbound?.drain();
    this.#cursor.flush?.();
    this.#http.close();
  }

  async ping(): Promise<NetworkStatus> {
    try {
      await this.#service.get();
    } catch (err) {
      return { ok: false, detail: `cannot log in to Wazo with the service account: ${describeError(err)}` };
    }
    if (this.#stream && !this.#stream.connected) return { ok: false, detail: this.#status.detail };
    return this.#status.ok ? this.#status : { ok: true, detail: `connected to ${new URL(this.#o.wazo.url).host}` };
  }

  #setStatus(ok: boolean, detail: string): void {
    this.#status = { ok, detail };
    this.#o.onHealth?.(ok, detail);
  }

  async getRoomInfo(portal: PortalKey): Promise<RoomInfo> {
    const id = portal.id as string;
    if (!this.#rooms.get(id)?.complete && this.#host) await this.#pool.refreshRooms(this.#host, this.#rooms, id);
    const room = this.#rooms.get(id);
    const members = [...(room?.members ?? [])].map((m) => remoteUserId(m));
    const info: RoomInfo = { members, isDirect: room?.complete === true && members.length === 2, fixedMembers: true };
    if (room?.name) info.name = room.name;
    return info;
  }

  async getGhostInfo(user: RemoteUserId): Promise<GhostInfo> {
    try {
      const info = await this.#profile(user);
      this.#ghostProfiles.set(user, JSON.stringify(info));
      return info;
    } catch (err) {
      this.#ghostProfiles.set(user, JSON.stringify({}));
      // confd down: the ghost gets its profile at a later message (#checkGhost); the message is not held back.
      this.#o.log.warn({ err: describeError(err), wazo_user: user }, 'wazo: confd lookup failed');
      return {};
    }
  }

  /** The confd profile as the core wants it (throws when confd cannot be asked). */
  async #profile(user: string): Promise<GhostInfo> {
    const p = await this.#directory.get(user);
    if (!p) return {};
    const info: GhostInfo = { name: p.displayName };
    if (p.email) info.email = p.email;
    if (p.phone) info.phone = p.phone;
    return info;
  }

  async connectPuppet(puppet: PuppetRecord): Promise<PuppetClient> {
    return this.#pool.connect(puppet);
  }

  relay(): PuppetClient | undefined {
    return this.#relay;
  }

  ghostLocalpart(user: RemoteUserId): string {
    return (user as string).toLowerCase();
  }

  parseGhostLocalpart(suffix: string): RemoteUserId | undefined {
    return isUuid(suffix) ? remoteUserId(suffix) : undefined;
  }

  createLogin(user: MatrixUserId): LoginProcess {
    return new WazoLogin(this.#loginDeps, user);
  }

  async logout(puppet: PuppetRecord): Promise<void> {
    this.#pool.forget(puppet);
    await revokePuppet(this.#loginDeps, puppet);
  }
}
