/**
 * End to end over real HTTP: fake Wazo ⇄ bridge (core + Wazo connector + appservice routes) ⇄ fake homeserver.
 * A Matrix user logs in through the bot, a Wazo user writes to them, they answer from Matrix.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Bridge } from '../../src/bridge/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { createAppserviceApp } from '../../src/http/appservice.ts';
import { silentLogger } from '../../src/log.ts';
import { MatrixApi } from '../../src/matrix/index.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { FakeWazo } from '../../src/testing/fake-wazo/index.ts';
import { createWebhookApp, memoryCursor, WazoConnector } from '../../src/wazo/index.ts';
import { ENCRYPTION_KEY, until } from './helpers.ts';

const DOMAIN = 'localhost';
const SECRET = 'e2e-webhook-secret-0123456789abcdef';

describe('end to end: Wazo ⇄ bridge ⇄ Matrix', () => {
  const hs = new FakeHomeserver({ serverName: DOMAIN, pusher: { baseDelayMs: 5, maxDelayMs: 20 } });
  const wazo = new FakeWazo({ webhookRetryDelayMs: () => 0 });
  const asToken = randomBytes(32).toString('hex');
  const hsToken = randomBytes(32).toString('hex');
  let server: ReturnType<typeof serve>;
  let bridge: Bridge;
  let connector: WazoConnector;
  const controller = new AbortController();
  let alice: { userId: string; token: string };
  let aliceWazo: { uuid: string };
  let bobWazo: { uuid: string };

  const cs = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hs.url}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  let txn = 0;
  const say = (roomId: string, body: string, extra: Record<string, unknown> = {}) =>
    cs(alice.token, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`, {
      msgtype: 'm.text',
      body,
      ...extra,
    });
  const timeline = (roomId: string) => hs.model.rooms.get(roomId)?.events ?? [];
  const messages = (roomId: string) => timeline(roomId).filter((e) => e.type === 'm.room.message');

  before(async () => {
    await hs.start();
    await wazo.start();
    wazo.addUser({ username: 'mcb-service', password: 'svc', purpose: 'external_api' });
    wazo.addUser({ username: 'mcb-relay', password: 'relay', firstname: 'Matrix', lastname: 'Relay' });
    aliceWazo = wazo.addUser({ username: 'alice', password: 'alice-pw-123', firstname: 'Alice', lastname: 'Liddell' });
    bobWazo = wazo.addUser({
      username: 'bob',
      password: 'bob-pw',
      firstname: 'Bob',
      lastname: 'Builder',
      email: 'bob@example.org',
    });
    alice = hs.model.addUser('alice', { displayname: 'Alice' });

    const database = openDatabase('sqlite::memory:');
    // A short request timeout: matrix-js-sdk's timeout timers are not cleared and would keep the test process alive.
    const api = new MatrixApi({ baseUrl: hs.url, asToken, botUserId: `@crmbridge:${DOMAIN}`, timeoutMs: 2000 });
    connector = new WazoConnector({
      wazo: {
        url: wazo.url,
        websocket_url: wazo.websocketUrl,
        events: 'websocket',
        public_url: '',
        manage_subscription: false,
        client_id: 'matrix-crm-bridge',
        verify_tls: true,
        tenant: '',
        bridge_all_rooms: false,
        reorder_window_ms: undefined,
        service_username: 'mcb-service',
        service_password: 'svc',
        relay_username: 'mcb-relay',
        relay_password: 'relay',
        webhook_secret: SECRET,
      },
      bridge: {
        relay: true,
        permissions: { [`@alice:${DOMAIN}`]: 'user', [`@carol:${DOMAIN}`]: 'relay' },
        double_puppet: { enabled: false, registration: '' },
        media: false,
        media_hosts: [],
        reactions: false,
        public_media_url: '',
        encryption_key: ENCRYPTION_KEY,
      },
      log: silentLogger,
      cursor: memoryCursor(),
    });
    bridge = new Bridge({
      database,
      api,
      connector,
      log: silentLogger,
      metrics: createMetricsRegistry(),
      sleep: () => new Promise((r) => setTimeout(r, 5)),
      options: {
        domain: DOMAIN,
        appserviceId: 'mcb',
        botLocalpart: 'crmbridge',
        ghostPrefix: 'wazo_',
        hsToken,
        permissions: { [`@alice:${DOMAIN}`]: 'user', [`@carol:${DOMAIN}`]: 'relay' },
        relay: true,
        reactions: false,
        publicMediaUrl: '',
      },
    });
    const app = new Hono();
    app.route(
      '/wazo',
      createWebhookApp({ secret: SECRET, handle: (e) => connector.handleWebhookEvent(e), log: silentLogger }),
    );
    app.route('/', createAppserviceApp({ hsToken, handler: bridge, log: silentLogger }));
    await new Promise<void>((r) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => r());
    });
    const port = (server.address() as AddressInfo).port;
    hs.registerAppservice({
      id: 'mcb',
      url: `http://127.0.0.1:${port}`,
      as_token: asToken,
      hs_token: hsToken,
      sender_localpart: 'crmbridge',
      namespaces: {
        users: [
          { regex: `^@crmbridge:${DOMAIN}$`, exclusive: true },
          { regex: `^@wazo_.*:${DOMAIN}$`, exclusive: true },
        ],
      },
      rate_limited: false,
    });
    await bridge.start(controller.signal);
    await until(() => connector.streaming, 'websocket connected');
  });

  after(async () => {
    controller.abort();
    await bridge.stop();
    await new Promise<void>((r) => {
      server.close(() => r());
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    });
    await hs.stop();
    await wazo.close();
  });

  let mgmt: string;
  let portalRoom: string;

  it('login through the bot: password redacted, confirmation with the Wazo name', async () => {
    mgmt = (
      await cs(alice.token, 'POST', '/createRoom', {
        invite: [`@crmbridge:${DOMAIN}`],
        is_direct: true,
        preset: 'trusted_private_chat',
      })
    ).room_id as string;
    await until(
      () => hs.model.membership(hs.model.rooms.get(mgmt)!, `@crmbridge:${DOMAIN}`) === 'join',
      'bot joined the management room',
    );
    await say(mgmt, 'login alice');
    await until(
      () => messages(mgmt).some((e) => e.sender.startsWith('@crmbridge') && /password/i.test(String(e.content.body))),
      'password prompt',
    );
    const pw = await say(mgmt, 'alice-pw-123');
    await until(
      () => messages(mgmt).some((e) => /Logged in as Alice Liddell \(alice\)/.test(String(e.content.body))),
      'confirmation',
    );
    // Redacted when the bot's power level allows, otherwise the bot asks the user to delete it (issue §4).
    const redacted = timeline(mgmt).some((e) => e.type === 'm.room.redaction' && e.redacts === pw.event_id);
    const asked = messages(mgmt).some(
      (e) => e.sender.startsWith('@crmbridge') && /delete it yourself/.test(String(e.content.body)),
    );
    assert.ok(redacted || asked, 'the password message is redacted, or the user is asked to delete it');
    assert.ok(
      !messages(mgmt).some((e) => e.sender.startsWith('@crmbridge') && String(e.content.body).includes('alice-pw-123')),
      'the bot never echoes the password',
    );
  });

  it('Wazo → Matrix: a portal with m.bridge, Bob’s ghost with his confd name, Markdown rendered', async () => {
    const bobToken = await wazoLogin('bob', 'bob-pw');
    const room = await chatd(bobToken, 'POST', '/users/me/rooms', { users: [{ uuid: aliceWazo.uuid }] });
    await chatd(bobToken, 'POST', `/users/me/rooms/${room.uuid}/messages`, { content: 'Hello **Alice**' });
    const ghost = `@wazo_${bobWazo.uuid}:${DOMAIN}`;
    await until(
      () =>
        [...hs.model.rooms.values()].some((r) =>
          r.events.some((e) => e.type === 'm.room.message' && e.sender === ghost),
        ),
      'ghost message',
      10_000,
    );
    const portal = [...hs.model.rooms.values()].find((r) =>
      r.events.some((e) => e.sender === ghost && e.type === 'm.room.message'),
    )!;
    portalRoom = portal.id;
    const msg = portal.events.find((e) => e.type === 'm.room.message')!;
    assert.equal(msg.content.body, 'Hello **Alice**');
    assert.equal(msg.content.formatted_body, 'Hello <strong>Alice</strong>');
    assert.ok(
      [...portal.state.keys()].some((k) => k.startsWith('m.bridge')),
      'm.bridge state',
    );
    assert.equal(hs.model.users.get(ghost)?.profile.displayname !== undefined, true);
    assert.match(String(hs.model.users.get(ghost)?.profile.displayname), /Bob Builder/);
    assert.equal(hs.model.membership(portal, alice.userId), 'invite', 'the linked Matrix user is invited');
  });

  it('Matrix → Wazo: Alice answers from Matrix as her own Wazo user; no echo comes back', async () => {
    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(portalRoom)}/join`, {});
    await say(portalRoom, 'Hi Bob, on my way');
    await until(() => wazo.state.messages.some((m) => m.content === 'Hi Bob, on my way'), 'chatd message', 10_000);
    const sent = wazo.state.messages.find((m) => m.content === 'Hi Bob, on my way')!;
    assert.equal(sent.user_uuid, aliceWazo.uuid, 'posted with Alice’s own token (puppet)');
    await wazo.flush();
    await bridge.idle();
    const aliceMsgs = messages(portalRoom).filter((e) => String(e.content.body) === 'Hi Bob, on my way');
    assert.equal(aliceMsgs.length, 1, 'the Wazo copy of her message is not bridged back');
    assert.equal(
      wazo.state.messages.filter((m) => m.content === 'Hello **Alice**').length,
      1,
      'the ghost message was not sent back to Wazo',
    );
  });

  it('Matrix → Wazo: a reply quotes the first line of the message it answers', async () => {
    const bobs = messages(portalRoom).find((e) => String(e.content.body) === 'Hello **Alice**')!;
    await say(portalRoom, 'Hello Bob', { 'm.relates_to': { 'm.in_reply_to': { event_id: bobs.event_id } } });
    await until(() => wazo.state.messages.some((m) => m.content.endsWith('Hello Bob')), 'chatd reply', 10_000);
    assert.equal(
      wazo.state.messages.find((m) => m.content.endsWith('Hello Bob'))!.content,
      '> Hello **Alice**\nHello Bob',
    );
  });

  it('chatd outage: the message waits in the outbox and is delivered once chatd is back', async () => {
    wazo.down('chatd', 503);
    await say(portalRoom, 'sent during the outage');
    await until(
      () =>
        wazo.requests.some(
          (r) => r.method === 'POST' && r.path.endsWith('/messages') && r.body.includes('during the outage'),
        ),
      'first attempt',
    );
    assert.equal(
      wazo.state.messages.some((m) => m.content === 'sent during the outage'),
      false,
    );
    wazo.recover('chatd');
    await until(
      () => wazo.state.messages.some((m) => m.content === 'sent during the outage'),
      'delivered after recovery',
      10_000,
    );
    assert.equal(wazo.state.messages.filter((m) => m.content === 'sent during the outage').length, 1);
  });

  it('relay: an unlinked Matrix user with the relay level posts through the relay account with alias', async () => {
    const carol = hs.model.addUser('carol', { displayname: 'Carol Matrix' });
    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(portalRoom)}/invite`, { user_id: carol.userId });
    await cs(carol.token, 'POST', `/rooms/${encodeURIComponent(portalRoom)}/join`, {});
    await cs(carol.token, 'PUT', `/rooms/${encodeURIComponent(portalRoom)}/send/m.room.message/c1`, {
      msgtype: 'm.text',
      body: 'hello from carol',
    });
    await until(
      () => wazo.state.messages.some((m) => m.content.includes('hello from carol')),
      'relayed message',
      10_000,
    );
    const m = wazo.state.messages.find((x) => x.content.includes('hello from carol'))!;
    assert.equal(m.alias, 'Carol Matrix');
    assert.notEqual(m.user_uuid, aliceWazo.uuid);
  });

  async function wazoLogin(username: string, password: string): Promise<string> {
    const res = await fetch(`${wazo.url}/api/auth/0.1/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      body: '{}',
    });
    return ((await res.json()) as { data: { token: string } }).data.token;
  }
  async function chatd(token: string, method: string, path: string, body?: unknown): Promise<{ uuid: string }> {
    const res = await fetch(`${wazo.url}/api/chatd/1.0${path}`, {
      method,
      headers: { 'x-auth-token': token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as { uuid: string };
  }
});
