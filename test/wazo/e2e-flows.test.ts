/**
 * Matrix → Wazo flows of issue #4 (points 4 to 8) end to end over real HTTP: fake homeserver ⇄ bridge (core +
 * Wazo connector + appservice routes) ⇄ fake Wazo. Each test drives the behaviour from what a Matrix user does,
 * so every value the connector sees is the one the core's pipeline really produces.
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
import { memoryCursor, WazoConnector } from '../../src/wazo/index.ts';
import { ENCRYPTION_KEY, until } from './helpers.ts';

const DOMAIN = 'localhost';
const BOT = `@crmbridge:${DOMAIN}`;

describe('end to end, Matrix → Wazo flows (issue #4 points 4-8)', () => {
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
  let carolWazo: { uuid: string };
  let mgmt: string;

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
  const send = (token: string, roomId: string, type: string, content: Record<string, unknown>) =>
    cs(token, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/${type}/f${++txn}`, content);
  const say = (roomId: string, body: string, extra: Record<string, unknown> = {}) =>
    send(alice.token, roomId, 'm.room.message', { msgtype: 'm.text', body, ...extra });
  const timeline = (roomId: string) => hs.model.rooms.get(roomId)?.events ?? [];
  const messages = (roomId: string) => timeline(roomId).filter((e) => e.type === 'm.room.message');
  const botSaid = (roomId: string, re: RegExp) =>
    messages(roomId).some((e) => e.sender === BOT && re.test(String(e.content.body)));
  const ghost = (uuid: string) => `@wazo_${uuid}:${DOMAIN}`;
  const chatdContents = () => wazo.state.messages.map((m) => m.content);

  async function loginThroughBot(password: string): Promise<void> {
    const before = messages(mgmt).filter((e) => /Logged in as/.test(String(e.content.body))).length;
    await say(mgmt, 'login alice');
    await say(mgmt, password);
    await until(
      () => messages(mgmt).filter((e) => /Logged in as/.test(String(e.content.body))).length > before,
      'login confirmation',
      10_000,
    );
  }

  before(async () => {
    await hs.start();
    await wazo.start();
    wazo.addUser({ username: 'mcb-service', password: 'svc', purpose: 'external_api' });
    wazo.addUser({ username: 'mcb-relay', password: 'relay', firstname: 'Matrix', lastname: 'Relay' });
    aliceWazo = wazo.addUser({ username: 'alice', password: 'alice-pw-123', firstname: 'Alice', lastname: 'Liddell' });
    bobWazo = wazo.addUser({ username: 'bob', password: 'bob-pw', firstname: 'Bob', lastname: 'Builder' });
    carolWazo = wazo.addUser({ username: 'carol', password: 'carol-pw', firstname: 'Carol', lastname: 'Danvers' });
    alice = hs.model.addUser('alice', { displayname: 'Alice' });

    const database = openDatabase('sqlite::memory:');
    const api = new MatrixApi({ baseUrl: hs.url, asToken, botUserId: BOT, timeoutMs: 2000 });
    const permissions: Record<string, 'user' | 'relay'> = { [`@alice:${DOMAIN}`]: 'user', [`@zoe:${DOMAIN}`]: 'relay' };
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
        webhook_secret: 'unused-webhook-secret-0123456789',
      },
      bridge: {
        relay: true,
        permissions,
        double_puppet: { enabled: false, registration: '' },
        media: false,
        media_hosts: [],
        reactions: false,
        public_media_url: 'https://matrix.example.org',
        encryption_key: ENCRYPTION_KEY,
      },
      log: silentLogger,
      cursor: memoryCursor(),
      httpTimeoutMs: 1000,
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
        permissions,
        relay: true,
        reactions: false,
        publicMediaUrl: 'https://matrix.example.org',
      },
    });
    const app = new Hono();
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
    mgmt = (await cs(alice.token, 'POST', '/createRoom', { invite: [BOT], is_direct: true })).room_id as string;
    await until(() => hs.model.membership(hs.model.rooms.get(mgmt)!, BOT) === 'join', 'bot joined');
    await loginThroughBot('alice-pw-123');
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

  let dm: string;
  let zoe: { userId: string; token: string };

  it('§6 a linked user inviting a Wazo ghost opens the chatd room from their puppet and maps it', async () => {
    dm = (await cs(alice.token, 'POST', '/createRoom', { invite: [ghost(bobWazo.uuid)], is_direct: true }))
      .room_id as string;
    await until(() => hs.model.membership(hs.model.rooms.get(dm)!, ghost(bobWazo.uuid)) === 'join', 'ghost joined');
    await say(dm, 'hello Bob, from a room I made');
    await until(() => chatdContents().includes('hello Bob, from a room I made'), 'message in chatd', 10_000);
    const m = wazo.state.messages.find((x) => x.content === 'hello Bob, from a room I made')!;
    assert.equal(m.user_uuid, aliceWazo.uuid, 'posted by Alice’s puppet');
    // And Bob's answer comes back into the same Matrix room.
    const bobToken = await wazoLogin('bob', 'bob-pw');
    await chatd(bobToken, 'POST', `/users/me/rooms/${m.room.uuid}/messages`, { content: 'hi Alice' });
    await until(
      () => messages(dm).some((e) => e.sender === ghost(bobWazo.uuid) && e.content.body === 'hi Alice'),
      'answer bridged into the Matrix-made room',
      10_000,
    );
  });

  it('§6 a chatd room that already has a portal: the user is invited to that portal instead', async () => {
    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(dm)}/leave`, {});
    const again = (await cs(alice.token, 'POST', '/createRoom', { invite: [ghost(bobWazo.uuid)], is_direct: true }))
      .room_id as string;
    await until(() => hs.model.membership(hs.model.rooms.get(dm)!, alice.userId) === 'invite', 'invited back', 10_000);
    await until(
      () => messages(again).some((e) => e.sender === ghost(bobWazo.uuid) && String(e.content.body).includes(dm)),
      'pointer to the existing portal in the new room',
      10_000,
    );
    assert.equal(bridge.store.portalByRoom(again), undefined, 'the second room is not mapped');
    assert.equal(bridge.store.portalByRoom(dm)?.matrixRoomId, dm);
    await until(() => hs.model.membership(hs.model.rooms.get(again)!, ghost(bobWazo.uuid)) === 'leave', 'ghost left');
    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(dm)}/join`, {});
  });

  it('§6 a membership change in a bridged room: the bot says members are fixed; a ghost invited later declines', async () => {
    const notices = () => messages(dm).filter((e) => e.sender === BOT && /fixed members/.test(String(e.content.body)));
    await wazo.flush();
    await bridge.idle();
    let before = notices().length;
    hs.model.addUser('dave', { displayname: 'Dave' });
    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(dm)}/invite`, { user_id: `@dave:${DOMAIN}` });
    await until(() => notices().length > before, 'fixed-members notice', 10_000);
    before = notices().length;
    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(dm)}/invite`, { user_id: ghost(carolWazo.uuid) });
    await until(() => notices().length > before, 'fixed-members notice for a ghost', 10_000);
    await until(() => hs.model.membership(hs.model.rooms.get(dm)!, ghost(carolWazo.uuid)) === 'leave', 'declined');
  });

  it('§6 a group: inviting two ghosts at once makes one chatd room with the three of them', async () => {
    const group = (
      await cs(alice.token, 'POST', '/createRoom', { invite: [ghost(bobWazo.uuid), ghost(carolWazo.uuid)] })
    ).room_id as string;
    await until(() => bridge.store.portalByRoom(group) !== undefined, 'group mapped', 10_000);
    await say(group, 'hello both');
    await until(() => chatdContents().includes('hello both'), 'group message', 10_000);
    const m = wazo.state.messages.find((x) => x.content === 'hello both')!;
    const r = wazo.state.rooms.get(m.room.uuid)!;
    assert.deepEqual(r.users.map((u) => u.uuid).sort(), [aliceWazo.uuid, bobWazo.uuid, carolWazo.uuid].sort());
    await wazo.flush();
    await bridge.idle();
    assert.ok(!botSaid(group, /fixed members/), 'the second ghost invite of the creation is not a "change"');
  });

  it('§6 a user without a linked account inviting a ghost: the ghost declines and the bot says how to log in', async () => {
    zoe = hs.model.addUser('zoe', { displayname: 'Zoe' });
    const zmgmt = (await cs(zoe.token, 'POST', '/createRoom', { invite: [BOT], is_direct: true })).room_id as string;
    await until(() => hs.model.membership(hs.model.rooms.get(zmgmt)!, BOT) === 'join', 'bot joined');
    const room = (await cs(zoe.token, 'POST', '/createRoom', { invite: [ghost(bobWazo.uuid)], is_direct: true }))
      .room_id as string;
    await until(() => botSaid(zmgmt, /link your Wazo account first/), 'how to log in', 10_000);
    await until(() => hs.model.membership(hs.model.rooms.get(room)!, ghost(bobWazo.uuid)) === 'leave', 'declined');
    assert.equal(bridge.store.portalByRoom(room), undefined);
  });

  it('§8 401: refresh once, then the puppet is marked logged out and told; a new login works again', async () => {
    wazo.state.refreshTokens.delete(`${aliceWazo.uuid}/matrix-crm-bridge`);
    wazo.state.expireAllTokens();
    await say(dm, 'after my session was revoked');
    await until(() => botSaid(mgmt, /session has ended/), 'logged-out notice', 10_000);
    assert.ok(botSaid(mgmt, /message you just sent was not delivered to Wazo: send it again/));
    assert.ok(!chatdContents().includes('after my session was revoked'));
    await loginThroughBot('alice-pw-123');
    await say(dm, 'back after logging in again');
    await until(() => chatdContents().includes('back after logging in again'), 'sent after re-login', 10_000);
  });

  it('§5 each Matrix content kind, as the core hands it over, reaches chatd as the issue says', async () => {
    const first = await say(dm, 'see you at 10');
    await until(() => chatdContents().includes('see you at 10'), 'plain text', 10_000);
    await send(alice.token, dm, 'm.room.message', { msgtype: 'm.notice', body: 'a notice' });
    await send(alice.token, dm, 'm.room.message', { msgtype: 'm.emote', body: 'waves' });
    await send(alice.token, dm, 'm.room.message', {
      msgtype: 'm.text',
      body: 'bold and link',
      format: 'org.matrix.custom.html',
      formatted_body: '<strong>bold</strong> and <a href="https://x.org">link</a><ul><li>one</li></ul>',
    });
    await send(alice.token, dm, 'm.room.message', {
      msgtype: 'm.text',
      body: '* see you at 10:30',
      'm.new_content': { msgtype: 'm.text', body: 'see you at 10:30' },
      'm.relates_to': { rel_type: 'm.replace', event_id: first.event_id },
    });
    await send(alice.token, dm, 'm.room.message', {
      msgtype: 'm.file',
      body: 'report.pdf',
      url: 'mxc://localhost/abc123',
      info: { mimetype: 'application/pdf', size: 10 },
    });
    await send(alice.token, dm, 'm.reaction', {
      'm.relates_to': { rel_type: 'm.annotation', event_id: first.event_id, key: '👍' },
    });
    await cs(
      alice.token,
      'PUT',
      `/rooms/${encodeURIComponent(dm)}/redact/${encodeURIComponent(String(first.event_id))}/r1`,
      {},
    );
    await say(dm, 'last one');
    await until(() => chatdContents().includes('last one'), 'last message', 10_000);
    const start = chatdContents().indexOf('see you at 10');
    assert.deepEqual(chatdContents().slice(start), [
      'see you at 10',
      'a notice',
      '* Alice waves',
      '**bold** and [link](https://x.org)\n- one',
      '* see you at 10:30',
      'report.pdf: https://matrix.example.org/_matrix/client/v1/media/download/localhost/abc123/report.pdf',
      'last one',
    ]);
  });

  it('§5 an encrypted event: the sender is told once that encrypted rooms are not bridged', async () => {
    await send(alice.token, dm, 'm.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' });
    await until(() => botSaid(dm, /encrypted/), 'encrypted notice', 10_000);
  });

  it('§8 timeouts: the puppet finds its message in history (no duplicate); the relay tells the sender', async () => {
    wazo.failAfterCommit('hang');
    await say(dm, 'stored but unanswered');
    await until(() => chatdContents().includes('stored but unanswered'), 'stored', 10_000);
    await until(() => bridge.store.outboxDepth().matrix === 0, 'outbox drained', 10_000);
    await say(dm, 'after the timeout');
    await until(() => chatdContents().includes('after the timeout'), 'next message', 10_000);
    assert.equal(chatdContents().filter((c) => c === 'stored but unanswered').length, 1);
    assert.ok(!botSaid(dm, /may not have been delivered/));

    await cs(alice.token, 'POST', `/rooms/${encodeURIComponent(dm)}/invite`, { user_id: zoe.userId });
    await cs(zoe.token, 'POST', `/rooms/${encodeURIComponent(dm)}/join`, {});
    wazo.failAfterCommit('hang');
    await send(zoe.token, dm, 'm.room.message', { msgtype: 'm.text', body: 'relayed, unanswered' });
    await until(() => botSaid(dm, /Zoe, your message may not have been delivered/), 'unconfirmed notice', 10_000);
    await bridge.idle();
    assert.equal(chatdContents().filter((c) => c === 'relayed, unanswered').length, 1, 'the relay does not retry');
    await wazo.flush();
    await bridge.idle();
    assert.deepEqual(
      messages(dm)
        .filter((e) => e.content.body === 'relayed, unanswered')
        .map((e) => e.sender),
      [zoe.userId],
      'the Wazo copy of the relayed message is not bridged back as the relay’s ghost',
    );
  });

  it('§8 404 room: the portal is marked broken and the room is told', async () => {
    const m = wazo.state.messages.find((x) => x.content === 'last one')!;
    wazo.state.rooms.delete(m.room.uuid);
    await say(dm, 'into the void');
    await until(() => botSaid(dm, /no longer exists on Wazo/), 'gone notice', 10_000);
    assert.ok(bridge.store.portalByRoom(dm)?.broken);
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
