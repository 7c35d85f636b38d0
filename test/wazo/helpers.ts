/** Builders for the Wazo connector tests: a recording BridgeHost double and a configured connector on a fake Wazo. */
import { randomBytes } from 'node:crypto';
import type {
  BridgeHost,
  GhostInfo,
  MatrixUserId,
  PuppetRecord,
  RemoteEvent,
  RemoteMessageId,
  RemoteRoomId,
  RemoteUserId,
} from '../../src/bridge/index.ts';
import { silentLogger } from '../../src/log.ts';
import { FakeWazo } from '../../src/testing/fake-wazo/index.ts';
import { ManualClock } from '../../src/testing/fake-wazo/manual-clock.ts';
import { WazoConnector, type WazoConnectorOptions } from '../../src/wazo/index.ts';

export const ENCRYPTION_KEY = randomBytes(32).toString('base64');

export class FakeHost implements BridgeHost {
  readonly log = silentLogger;
  readonly events: RemoteEvent[] = [];
  readonly known = new Set<string>();
  readonly portals = new Set<string>();
  readonly links = new Map<string, MatrixUserId>();
  readonly records: PuppetRecord[] = [];
  readonly userNotices: [string, string][] = [];
  readonly portalNotices: [string, string][] = [];
  /** When set, queueRemoteEvent rejects (durable write failed). */
  failQueue = false;
  /** Ghost profiles as the core stores them: the core asks the connector once, when it makes the ghost. */
  readonly ghosts = new Map<string, GhostInfo>();
  /** The connector's getGhostInfo (set by `setup`), called for a sender without a ghost, as the core does. */
  ghostInfo: ((user: RemoteUserId) => Promise<GhostInfo>) | undefined;

  async queueRemoteEvent(ev: RemoteEvent): Promise<void> {
    if (this.failQueue) throw new Error('outbox unavailable');
    if (ev.kind === 'message' && this.ghostInfo && !this.ghosts.has(ev.sender.id)) {
      // The core makes the ghost when it handles the row, after this call returns.
      this.ghosts.set(ev.sender.id, {});
      const sender = ev.sender.id;
      void this.ghostInfo(sender).then((info) => this.ghosts.set(sender, info));
    }
    if (ev.kind === 'ghost-info') this.ghosts.set(ev.user, { ...this.ghosts.get(ev.user), ...ev.info });
    if (ev.kind === 'message') {
      if (this.known.has(ev.remoteId)) return;
      this.known.add(ev.remoteId);
    }
    this.events.push(ev);
  }
  isKnownMessage(id: RemoteMessageId): boolean {
    return this.known.has(id);
  }
  hasPortal(room: RemoteRoomId): boolean {
    return this.portals.has(room);
  }
  matrixUserFor(remote: RemoteUserId): MatrixUserId | undefined {
    return this.links.get(remote);
  }
  puppets(): PuppetRecord[] {
    return this.records;
  }
  updatePuppetCredentials(user: MatrixUserId, credentials: string): void {
    const r = this.records.find((p) => p.matrixUser === user);
    if (r) r.credentials = credentials;
  }
  async notifyUser(user: MatrixUserId, text: string): Promise<void> {
    this.userNotices.push([user, text]);
  }
  async notifyPortal(room: RemoteRoomId, text: string): Promise<void> {
    this.portalNotices.push([room, text]);
  }
  /** Message texts queued, in order. */
  texts(): string[] {
    return this.events.flatMap((e) => (e.kind === 'message' ? [e.body.text] : []));
  }
}

export interface Setup {
  wazo: FakeWazo;
  clock: ManualClock;
  host: FakeHost;
  connector: WazoConnector;
  service: { uuid: string };
  relay: { uuid: string };
  controller: AbortController;
  close(): Promise<void>;
}

/** A started fake Wazo with a service account and a relay user, and a connector configured against it. */
export async function setup(
  over: {
    events?: 'websocket' | 'webhook';
    reorder?: number;
    wazoOpts?: ConstructorParameters<typeof FakeWazo>[0];
    connector?: Partial<WazoConnectorOptions>;
    bridge?: Record<string, unknown>;
    wazo?: Record<string, unknown>;
  } = {},
): Promise<Setup> {
  const clock = new ManualClock();
  const wazo = await new FakeWazo({ now: clock.now, webhookRetryDelayMs: () => 0, ...over.wazoOpts }).start();
  const service = wazo.addUser({ username: 'mcb-service', password: 'svc-pass', purpose: 'external_api' });
  const relay = wazo.addUser({ username: 'mcb-relay', password: 'relay-pass', firstname: 'Matrix', lastname: 'Relay' });
  const host = new FakeHost();
  const connector = new WazoConnector({
    wazo: {
      url: wazo.url,
      websocket_url: wazo.websocketUrl,
      events: over.events ?? 'websocket',
      public_url: '',
      manage_subscription: false,
      client_id: 'matrix-crm-bridge',
      verify_tls: true,
      tenant: '',
      bridge_all_rooms: false,
      reorder_window_ms: over.reorder,
      service_username: 'mcb-service',
      service_password: 'svc-pass',
      relay_username: 'mcb-relay',
      relay_password: 'relay-pass',
      webhook_secret: 'a-long-webhook-secret-0123456789',
      ...over.wazo,
    } as WazoConnectorOptions['wazo'],
    bridge: {
      relay: true,
      permissions: {},
      double_puppet: { enabled: false, registration: '' },
      media: false,
      media_hosts: [],
      reactions: false,
      public_media_url: '',
      encryption_key: ENCRYPTION_KEY,
      ...over.bridge,
    } as WazoConnectorOptions['bridge'],
    log: silentLogger,
    clock,
    random: () => 0.5,
    backoff: { initialMs: 1000, maxMs: 8000 },
    ...over.connector,
  });
  host.ghostInfo = (user) => connector.getGhostInfo(user);
  const controller = new AbortController();
  return {
    wazo,
    clock,
    host,
    connector,
    service,
    relay,
    controller,
    async close() {
      controller.abort();
      await connector.stop();
      await wazo.close();
    },
  };
}

/** Polls (on real time, but only as a wait for I/O, never as a behaviour timer) until `cond` holds. */
export async function until(cond: () => boolean, what = 'condition', ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Logs a user in through the connector's login flow and stores the puppet on the host. */
export async function login(s: Setup, matrixUser: string, username: string, password: string): Promise<PuppetRecord> {
  const flow = s.connector.createLogin(matrixUser as MatrixUserId);
  await flow.start([username]);
  const done = await flow.submit(password);
  if (done.kind !== 'done') throw new Error('login did not finish');
  const record: PuppetRecord = { ...done.puppet, matrixUser: matrixUser as MatrixUserId };
  s.host.records.push(record);
  s.host.links.set(record.remoteUser, record.matrixUser);
  return record;
}
