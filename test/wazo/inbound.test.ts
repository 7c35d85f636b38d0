import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { WazoChatEvent } from '../../src/wazo/schemas.ts';
import { createWebhookApp } from '../../src/wazo/index.ts';
import { silentLogger } from '../../src/log.ts';
import { login, type Setup, setup, until } from './helpers.ts';

/** Posts as `username` in a room with `others` through chatd directly (what a Wazo client does). */
async function wazoClient(s: Setup, username: string, password: string) {
  const res = await fetch(`${s.wazo.url}/api/auth/0.1/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
    body: '{}',
  });
  const token = ((await res.json()) as { data: { token: string } }).data.token;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${s.wazo.url}/api/chatd/1.0${path}`, {
      method,
      headers: { 'x-auth-token': token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return r.json() as Promise<{ uuid: string }>;
  };
  return {
    room: (users: string[]) => call('POST', '/users/me/rooms', { users: users.map((uuid) => ({ uuid })) }),
    say: (room: string, content: string) => call('POST', `/users/me/rooms/${room}/messages`, { content }),
  };
}

describe('Wazo → Matrix over the websocket', () => {
  let s: Setup;
  afterEach(() => s?.close());

  it('N copies of a message make one RemoteEvent, with Markdown rendered', async () => {
    s = await setup();
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a', firstname: 'Alice' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    const carol = s.wazo.addUser({ username: 'carol', password: 'pw-c' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const room = await b.room([alice.uuid, carol.uuid]);
    await b.say(room.uuid, 'Hello **team**');
    await until(() => s.host.events.length === 1, 'one event');
    await s.wazo.flush();
    await new Promise((r) => setImmediate(r));
    assert.equal(s.host.events.length, 1, 'three copies (one per participant) → one event');
    const ev = s.host.events[0];
    assert.equal(ev.kind, 'message');
    if (ev.kind !== 'message') return;
    assert.equal(ev.portal.id, room.uuid);
    assert.equal(ev.sender.id, bob.uuid);
    assert.equal(ev.body.text, 'Hello **team**');
    assert.equal(ev.body.html, 'Hello <strong>team</strong>');
  });

  it('skips rooms without a linked participant (private staff chats)', async () => {
    s = await setup();
    s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    const carol = s.wazo.addUser({ username: 'carol', password: 'pw-c' });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const staff = await b.room([carol.uuid]);
    await b.say(staff.uuid, 'private staff chat');
    const withAlice = await b.room([alice.uuid]);
    await b.say(withAlice.uuid, 'for alice');
    await until(() => s.host.events.length === 1, 'alice event');
    assert.deepEqual(s.host.texts(), ['for alice']);
  });

  it('websocket drop → reconnect with backoff → backfill: no gap, no duplicate', async () => {
    s = await setup();
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const room = await b.room([alice.uuid]);
    await b.say(room.uuid, 'one');
    await until(() => s.host.events.length === 1, 'first');
    s.clock.advance(1000);
    s.wazo.websocketd.dropAll();
    await until(() => !s.connector.streaming, 'disconnect');
    await b.say(room.uuid, 'two (while down)');
    await b.say(room.uuid, 'three (while down)');
    assert.equal(s.host.events.length, 1, 'events are lost while disconnected (no replay in websocketd)');
    const accepted = s.wazo.websocketd.accepted;
    s.clock.advance(1000); // backoff attempt 1: 1000 ms × (0.8 + 0.4 × 0.5)
    await until(() => s.wazo.websocketd.accepted === accepted + 1, 'reconnect');
    await until(() => s.host.events.length === 3, 'backfilled');
    await b.say(room.uuid, 'four (live again)');
    await until(() => s.host.events.length === 4, 'live');
    assert.deepEqual(s.host.texts(), ['one', 'two (while down)', 'three (while down)', 'four (live again)']);
    const backfilled = s.host.events.filter((e) => e.kind === 'message' && e.keepTimestamp).length;
    assert.equal(backfilled, 2, 'backfilled messages keep their original time');
    const history = s.wazo.requests.find((r) => r.path.endsWith('/messages') && r.method === 'GET');
    assert.equal(history?.query.direction, 'asc');
    assert.ok(history?.query.from_date);
  });

  it('renews the service token before expiry and sends it over the socket', async () => {
    s = await setup({ connector: { pingIntervalMs: 10 * 3600_000 } });
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    s.clock.advance(3600_000 * 0.8 + 1);
    await until(() => s.wazo.websocketd.ops.some((o) => o.op === 'token'), 'token op');
    s.clock.advance(3600_000 * 0.2);
    s.wazo.websocketd.enforceTokenExpiry();
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(s.connector.streaming, 'the renewed token keeps the socket open past the first token’s expiry');
  });

  it('token expired (close 4003) → a fresh service token and a reconnect', async () => {
    s = await setup({ connector: { pingIntervalMs: 10 * 3600_000 } });
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const logins = () => s.wazo.requests.filter((r) => r.path === '/api/auth/0.1/token').length;
    const before = logins();
    s.wazo.state.expireAllTokens();
    s.wazo.websocketd.enforceTokenExpiry();
    await until(() => !s.connector.streaming && s.clock.pending > 0, 'closed, reconnect scheduled');
    s.clock.advance(1000);
    await until(() => s.connector.streaming, 'reconnected');
    assert.equal(logins(), before + 1, 'one new service login');
  });

  it('pings, and reconnects when no pong comes back', async () => {
    s = await setup({ connector: { pingIntervalMs: 30_000 } });
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    s.clock.advance(30_000);
    await until(() => s.wazo.websocketd.ops.some((o) => o.op === 'ping'), 'ping');
    assert.ok(s.connector.streaming);
    // Two intervals without letting the pong arrive: the client gives up on the socket.
    s.clock.advance(30_000);
    s.clock.advance(30_000);
    await until(() => !s.connector.streaming, 'dead socket detected');
    s.clock.advance(1000);
    await until(() => s.connector.streaming, 'reconnected');
  });
});

describe('Wazo → Matrix media ([bridge] media = true)', () => {
  let s: Setup;
  afterEach(() => s?.close());

  it('a lone link to an image is downloaded for re-upload; a broken link stays a link', async () => {
    const http = await import('node:http');
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const files = http.createServer((req, res) => {
      if (req.url === '/f/cat.png') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) });
        res.end(png);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(files.address() as { port: number }).port}`;
    const base = `http://${host}`;
    try {
      // A file server on a private network must be listed ([bridge] media_hosts); the Wazo host always is.
      s = await setup({ bridge: { media: true, media_hosts: [host] } });
      const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
      s.wazo.addUser({ username: 'bob', password: 'pw-b' });
      await login(s, '@alice:hs', 'alice', 'pw-a');
      await s.connector.start(s.host, s.controller.signal);
      await until(() => s.connector.streaming, 'websocket');
      const b = await wazoClient(s, 'bob', 'pw-b');
      const room = await b.room([alice.uuid]);
      await b.say(room.uuid, `${base}/f/cat.png`);
      await b.say(room.uuid, `${base}/f/missing.png`);
      await until(() => s.host.events.length === 2, 'two events');
      const [img, broken] = s.host.events;
      assert.ok(img.kind === 'message' && img.body.media?.kind === 'image');
      if (img.kind !== 'message' || !img.body.media?.bytes) return;
      assert.deepEqual(Buffer.from(img.body.media.bytes), png);
      assert.equal(img.body.media.name, 'cat.png');
      assert.equal(img.body.media.mimeType, 'image/png');
      assert.ok(
        broken.kind === 'message' && broken.body.media === undefined && broken.body.text.endsWith('missing.png'),
      );
    } finally {
      files.close();
    }
  });
});

describe('Wazo → Matrix over webhooks', () => {
  let s: Setup;
  afterEach(() => s?.close());

  const secret = 'a-long-webhook-secret-0123456789';
  const appFor = (handle: (e: WazoChatEvent) => Promise<unknown>) =>
    createWebhookApp({ secret, handle, log: silentLogger });

  it('secret checks: wrong or missing → the same 404 as an unknown path; right → 200', async () => {
    const seen: WazoChatEvent[] = [];
    const app = appFor(async (e) => void seen.push(e));
    const body = JSON.stringify({
      event: 'chatd_user_room_message_created',
      data: {
        uuid: '5e1d0000-0000-4000-8000-000000000001',
        content: 'x',
        user_uuid: '5e1d0000-0000-4000-8000-000000000002',
        created_at: '2026-08-01T14:03:12.345678+00:00',
        room: { uuid: '5e1d0000-0000-4000-8000-000000000003' },
      },
    });
    const unknown = await app.request('/nothing', { method: 'POST', body });
    const wrong = await app.request('/events/not-the-secret', { method: 'POST', body });
    const missing = await app.request('/events/', { method: 'POST', body });
    assert.equal(wrong.status, 404);
    assert.equal(missing.status, 404);
    assert.deepEqual(await wrong.json(), { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    assert.equal(unknown.status, 404);
    assert.equal(seen.length, 0);
    assert.equal((await app.request(`/events/${secret}`, { method: 'POST', body })).status, 200);
    assert.equal(seen.length, 1);
    assert.equal((await app.request(`/events/${secret}`, { method: 'POST', body: 'not json' })).status, 410);
    assert.equal(
      (await app.request(`/events/${secret}`, { method: 'POST', body: '{"event":"chatd_presence_updated","data":{}}' }))
        .status,
      410,
    );
    assert.equal(
      (
        await app.request(`/events/${secret}`, {
          method: 'POST',
          body: '{"event":"chatd_user_room_message_created","data":{"uuid":1}}',
        })
      ).status,
      410,
    );
    const failing = appFor(async () => {
      throw new Error('not started');
    });
    assert.equal(
      (await failing.request(`/events/${secret}`, { method: 'POST', body })).status,
      503,
      'not queued → webhookd retries',
    );
  });

  it('unordered delivery of N copies is reordered within the window and deduplicated', async () => {
    s = await setup({ events: 'webhook', wazoOpts: { unordered: true, delivery: 'manual', seed: 7 } });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    // Mount the webhook sub-app on a real server that the fake webhookd posts to.
    const { serve } = await import('@hono/node-server');
    const { Hono } = await import('hono');
    const app = new Hono();
    app.route(
      '/wazo',
      createWebhookApp({ secret, handle: (e) => s.connector.handleWebhookEvent(e), log: silentLogger }),
    );
    const server = await new Promise<ReturnType<typeof serve>>((r) => {
      const srv = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => r(srv));
    });
    const port = (server.address() as { port: number }).port;
    await s.connector.start(s.host, s.controller.signal);
    assert.equal(s.connector.reorderWindowMs, 300);
    s.wazo.state.subscriptions.set('sub', {
      uuid: 'sub',
      name: 'bridge',
      service: 'http',
      events: ['chatd_user_room_message_created', 'chatd_user_room_created'],
      events_user_uuid: null,
      events_wazo_uuid: null,
      config: {
        url: `http://127.0.0.1:${port}/wazo/events/${secret}`,
        method: 'post',
        content_type: 'application/json',
        body: '{"event": "{{ event_name }}", "data": {{ event|tojson }}}',
      },
      metadata: {},
      owner_tenant_uuid: s.wazo.state.tenantUuid,
      owner_user_uuid: null,
    });
    const b = await wazoClient(s, 'bob', 'pw-b');
    const room = await b.room([alice.uuid]);
    for (const t of ['m1', 'm2', 'm3', 'm4', 'm5']) {
      await b.say(room.uuid, t);
      s.clock.advance(1);
    }
    const flushed = s.wazo.flush();
    await until(() => s.connector.held === 5, 'all five held in the window');
    assert.equal(s.host.events.length, 0, 'nothing released before the window ends');
    s.clock.advance(300);
    await flushed;
    assert.deepEqual(s.host.texts(), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.ok(s.wazo.hookLogs.every((l) => l.status === 'success'));
    assert.equal(
      s.wazo.hookLogs.filter((l) => l.event === 'chatd_user_room_message_created').length,
      10,
      'two copies each, both acknowledged',
    );
    // A straggler older than what was released goes out on arrival with its original time.
    const late = s.wazo.state.messages[1];
    await s.connector.handleWebhookEvent({
      name: 'chatd_user_room_message_created',
      recipient: undefined,
      data: { ...late, uuid: '11111111-1111-4111-8111-111111111111', content: 'late' },
    });
    // A webhook event is answered once durable in the inbox; the hand-over to the core follows.
    await until(() => s.host.texts().at(-1) === 'late', 'straggler queued');
    const last = s.host.events.at(-1);
    assert.ok(last?.kind === 'message' && last.keepTimestamp === true && last.body.text === 'late');
    server.close();
    void bob;
  });

  it('acknowledges once durable in the inbox; a failed hand-over is retried; a failed write gets 503', async () => {
    const rows = new Map<string, unknown>();
    let inboxDown = false;
    const inbox = {
      put: (m: { uuid: string }) => {
        if (inboxDown) throw new Error('disk full');
        rows.set(m.uuid, m);
      },
      remove: (u: string) => void rows.delete(u),
      pending: () => [...rows.values()] as never[],
      durable: () => Promise.resolve(),
    };
    s = await setup({ events: 'webhook', reorder: 0, connector: { inbox } });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    const room = '33333333-3333-4333-8333-333333333333';
    s.host.portals.add(room);
    const app = createWebhookApp({ secret, handle: (e) => s.connector.handleWebhookEvent(e), log: silentLogger });
    const body = (uuid: string, content: string) =>
      JSON.stringify({
        event: 'chatd_user_room_message_created',
        data: {
          uuid,
          content,
          user_uuid: alice.uuid,
          created_at: '2026-11-22T09:00:00.000001+00:00',
          room: { uuid: room },
        },
      });
    s.host.failQueue = true;
    const first = '22222222-2222-4222-8222-222222222222';
    assert.equal((await app.request(`/events/${secret}`, { method: 'POST', body: body(first, 'hi') })).status, 200);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(s.host.texts(), []);
    assert.ok(rows.has(first), 'kept in the inbox while the core cannot take it');
    s.host.failQueue = false;
    s.clock.advance(5000);
    await until(() => s.host.texts().length === 1, 'replayed');
    assert.deepEqual(s.host.texts(), ['hi']);
    await until(() => rows.size === 0, 'inbox emptied');
    inboxDown = true;
    const res = await app.request(`/events/${secret}`, {
      method: 'POST',
      body: body('44444444-4444-4444-8444-444444444444', 'x'),
    });
    assert.equal(res.status, 503, 'not durable → webhookd retries');
    inboxDown = false;
    assert.equal(
      (
        await app.request(`/events/${secret}`, {
          method: 'POST',
          body: body('44444444-4444-4444-8444-444444444444', 'x'),
        })
      ).status,
      200,
    );
    await until(() => s.host.texts().length === 2, 'accepted on retry');
  });

  it('messages acknowledged before a crash are replayed at start', async () => {
    const alice = '55555555-5555-4555-8555-555555555555';
    const room = '66666666-6666-4666-8666-666666666666';
    const leftover = {
      uuid: '77777777-7777-4777-8777-777777777777',
      content: 'from before the crash',
      user_uuid: alice,
      created_at: '2026-11-22T08:59:00.000001+00:00',
      room: { uuid: room },
    };
    const rows = new Map<string, unknown>([[leftover.uuid, leftover]]);
    const inbox = {
      put: (m: { uuid: string }) => void rows.set(m.uuid, m),
      remove: (u: string) => void rows.delete(u),
      pending: () => [...rows.values()] as never[],
      durable: () => Promise.resolve(),
    };
    s = await setup({ events: 'webhook', reorder: 0, connector: { inbox } });
    s.host.portals.add(room);
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.host.texts().length === 1, 'replayed at start');
    await until(() => rows.size === 0, 'inbox emptied once queued');
  });
});

describe('ghost profiles', () => {
  it('a confd change (after the cache expires) is queued as ghost-info on the next message', async () => {
    // No pings while the manual clock jumps 11 minutes (a jump would look like missed pongs).
    const s = await setup({ connector: { pingIntervalMs: 3600_000 } });
    try {
      const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
      const bob = s.wazo.addUser({ username: 'bob', password: 'pw-b', firstname: 'Bob', lastname: 'Old' });
      await login(s, '@alice:hs', 'alice', 'pw-a');
      await s.connector.start(s.host, s.controller.signal);
      await until(() => s.connector.streaming, 'websocket');
      const { remoteUserId } = await import('../../src/bridge/index.ts');
      assert.deepEqual(await s.connector.getGhostInfo(remoteUserId(bob.uuid)), { name: 'Bob Old' });
      const b = await wazoClient(s, 'bob', 'pw-b');
      const room = await b.room([alice.uuid]);
      await b.say(room.uuid, 'one');
      await until(() => s.host.events.length === 1, 'message');
      bob.lastname = 'New';
      s.clock.advance(11 * 60_000);
      await b.say(room.uuid, 'two');
      await until(() => s.host.events.some((e) => e.kind === 'ghost-info'), 'ghost-info');
      const gi = s.host.events.find((e) => e.kind === 'ghost-info');
      assert.ok(gi?.kind === 'ghost-info' && gi.user === bob.uuid && gi.info.name === 'Bob New');
    } finally {
      await s.close();
    }
  });
});
