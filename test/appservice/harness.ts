/**
 * Test harness: the fake homeserver, and a bridge (core + appservice routes on a real HTTP server on
 * 127.0.0.1) registered on it, with an in-test connector. Retries wait on an immediate fake sleep.
 */
import { randomBytes } from 'node:crypto';
import {
  Bridge,
  type BridgeOptions,
  type NetworkConnector,
  remoteMessageId,
  remoteRoomId,
  remoteUserId,
} from '../../src/bridge/index.ts';
import { type DatabaseHandle, type EncryptionKey, openDatabase } from '../../src/db/index.ts';
import { createApp } from '../../src/http/app.ts';
import { APPSERVICE_BODY_LIMITS, createAppserviceApp } from '../../src/http/appservice.ts';
import { type RunningServer, startServer } from '../../src/http/server.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { MatrixApi } from '../../src/matrix/index.ts';
import { createMetricsRegistry, type Registry } from '../../src/metrics.ts';
import type { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';

export const DOMAIN = 'localhost';
export const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

export interface Tokens {
  as_token: string;
  hs_token: string;
}

export function newTokens(): Tokens {
  return { as_token: randomBytes(32).toString('hex'), hs_token: randomBytes(32).toString('hex') };
}

export function registrationFor(tokens: Tokens, url: string | null) {
  return {
    id: 'testbridge',
    url,
    ...tokens,
    sender_localpart: 'bridgebot',
    namespaces: {
      users: [
        { regex: '^@bridgebot:localhost$', exclusive: true },
        { regex: '^@tn_.*:localhost$', exclusive: true },
      ],
      aliases: [{ regex: '^#tn_.*:localhost$', exclusive: true }],
      rooms: [],
    },
    rate_limited: false,
  };
}

export interface BridgeUnderTest {
  bridge: Bridge;
  server: RunningServer;
  metrics: Registry;
  database: DatabaseHandle;
  stop(): Promise<void>;
}

export async function startBridge(
  hs: FakeHomeserver,
  tokens: Tokens,
  opts: {
    connector?: NetworkConnector;
    dbUrl?: string;
    options?: Partial<BridgeOptions>;
    sleep?: (ms: number) => Promise<void>;
    /** as_token of a double-puppeting registration loaded on the homeserver. */
    doublePuppetToken?: string;
    /** `[bridge] encryption_key` (login-matrix is off without it). */
    encryptionKey?: EncryptionKey;
  } = {},
): Promise<BridgeUnderTest> {
  const log = silentLogger;
  const metrics = createMetricsRegistry({ processMetrics: false });
  const database = openDatabase(opts.dbUrl ?? 'sqlite::memory:');
  const api = new MatrixApi({
    baseUrl: hs.url,
    asToken: tokens.as_token,
    botUserId: `@bridgebot:${DOMAIN}`,
    sleep: opts.sleep ?? immediate,
  });
  const bridge = new Bridge({
    database,
    api,
    doublePuppetApi: opts.doublePuppetToken
      ? new MatrixApi({
          baseUrl: hs.url,
          asToken: opts.doublePuppetToken,
          botUserId: `@dp-sender:${DOMAIN}`,
          sleep: opts.sleep ?? immediate,
        })
      : undefined,
    encryptionKey: opts.encryptionKey,
    connector: opts.connector,
    log,
    metrics,
    sleep: opts.sleep ?? immediate,
    options: {
      domain: DOMAIN,
      appserviceId: 'testbridge',
      botLocalpart: 'bridgebot',
      ghostPrefix: 'tn_',
      hsToken: tokens.hs_token,
      permissions: { '@admin:localhost': 'admin', localhost: 'user', 'relay.example': 'relay' },
      relay: true,
      reactions: false,
      publicMediaUrl: '',
      ...opts.options,
    },
  });
  const app = createApp({
    version: 'test',
    health: new HealthRegistry(),
    metrics,
    log,
    maxBodyBytes: 1 << 20,
    databaseOk: () => true,
    mounts: [
      {
        path: '/',
        app: createAppserviceApp({ hsToken: tokens.hs_token, handler: bridge, log }),
        bodyLimits: APPSERVICE_BODY_LIMITS,
      },
    ],
  });
  const server = await startServer(app, '127.0.0.1', 0);
  await bridge.start();
  return {
    bridge,
    server,
    metrics,
    database,
    async stop() {
      await bridge.stop();
      await server.close(100);
      database.close();
    },
  };
}

/** Waits (without timers) until `cond` holds, letting I/O run; fails after `rounds` turns of the event loop. */
export async function until(cond: () => boolean, what: string, rounds = 20_000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** A remote text message, as the connector hands it to the core. */
export function remoteText(id: string, from: string, text: string, room = 'room1') {
  return {
    kind: 'message' as const,
    portal: { id: remoteRoomId(room) },
    sender: { id: remoteUserId(from) },
    remoteId: remoteMessageId(id),
    at: new Date(1_767_225_600_000),
    body: { kind: 'text' as const, text },
  };
}

/** Lets the homeserver's pushes and the bridge's outbox run until both are idle. */
export async function settle(hs: FakeHomeserver, bridge: Bridge): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await hs.pusher.idle();
    await bridge.idle();
    await new Promise((r) => setImmediate(r));
  }
}
