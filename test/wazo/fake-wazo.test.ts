import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FakeWazo } from '../../src/testing/fake-wazo/index.ts';
import { ManualClock } from '../../src/testing/fake-wazo/manual-clock.ts';
import { AuthClient, RenewingToken, WazoHttp } from '../../src/wazo/index.ts';

describe('fake Wazo', () => {
  const clock = new ManualClock();
  let wazo: FakeWazo;
  let alice: { uuid: string };
  let bob: { uuid: string };
  const token = async (username: string, password: string, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${wazo.url}/api/auth/0.1/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as { data: { token: string; refresh_token?: string } } };
  };
  before(async () => {
    wazo = await new FakeWazo({ now: clock.now, webhookRetryDelayMs: () => 0 }).start();
    alice = wazo.addUser({ username: 'alice', password: 'pw-a' });
    bob = wazo.addUser({ username: 'bob', password: 'pw-b' });
  });
  after(() => wazo.close());

  it('auth: Basic login, offline refresh token, refresh, expiry', async () => {
    assert.equal((await token('alice', 'wrong')).status, 401);
    const t = await token('alice', 'pw-a', { access_type: 'offline', client_id: 'x' });
    assert.equal(t.status, 200);
    assert.ok(t.json.data.refresh_token);
    const again = await token('alice', 'pw-a', { access_type: 'offline', client_id: 'x' });
    assert.equal(again.json.data.refresh_token, t.json.data.refresh_token, 'one refresh token per (user, client_id)');
    const r = await fetch(`${wazo.url}/api/auth/0.1/token`, {
      method: 'POST',
      body: JSON.stringify({ refresh_token: t.json.data.refresh_token, client_id: 'x', expiration: 60 }),
    });
    assert.equal(r.status, 200);
    const short = ((await r.json()) as { data: { token: string } }).data.token;
    assert.equal((await fetch(`${wazo.url}/api/auth/0.1/token/${short}`)).status, 200);
    clock.advance(61_000);
    assert.equal((await fetch(`${wazo.url}/api/auth/0.1/token/${short}`)).status, 404);
    assert.equal(
      (await token('alice', 'pw-a', { access_type: 'offline' })).status,
      400,
      'client_id required with offline',
    );
  });

  it('auth: token timestamps are naive ISO strings as wazo-auth writes them; RenewingToken reads them as UTC', async () => {
    const t = await token('alice', 'pw-a', { expiration: 3600 });
    const data = t.json.data as unknown as Record<string, string>;
    for (const k of ['issued_at', 'expires_at', 'utc_issued_at', 'utc_expires_at'])
      assert.match(data[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/, k);
    const savedTz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    const http = new WazoHttp({ baseUrl: wazo.url, verifyTls: true });
    try {
      const renewing = new RenewingToken({
        now: clock.now,
        mint: () => new AuthClient(http).passwordLogin('alice', 'pw-a'),
      });
      const start = clock.now();
      await renewing.get();
      assert.equal(renewing.expiresAt, start + 3_600_000);
      assert.equal(renewing.renewAt, start + 2_880_000);
    } finally {
      http.close();
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });

  it('chatd: one room per member set, validation, fan-out one event per participant', async () => {
    const t = (await token('alice', 'pw-a')).json.data.token;
    const post = (path: string, body: unknown) =>
      fetch(`${wazo.url}/api/chatd/1.0${path}`, {
        method: 'POST',
        headers: { 'x-auth-token': t },
        body: JSON.stringify(body),
      });
    assert.equal((await post('/users/me/rooms', {})).status, 400);
    assert.equal((await post('/users/me/rooms', { users: [{ uuid: bob.uuid }, { uuid: bob.uuid }] })).status, 400);
    const r1 = (await (await post('/users/me/rooms', { users: [{ uuid: bob.uuid }], name: 'x' })).json()) as {
      uuid: string;
    };
    const r2 = (await (
      await post('/users/me/rooms', { users: [{ uuid: alice.uuid }, { uuid: bob.uuid }] })
    ).json()) as { uuid: string };
    assert.equal(r1.uuid, r2.uuid);
    const copies: string[] = [];
    const off = wazo.state.onEvent((e) => copies.push(e.recipient));
    const m = await post(`/users/me/rooms/${r1.uuid}/messages`, { content: 'hi', extra: 'dropped' });
    off();
    assert.equal(m.status, 201);
    assert.deepEqual(copies.sort(), [alice.uuid, bob.uuid].sort());
    assert.equal(
      (await post('/users/me/rooms/00000000-0000-4000-8000-000000000000/messages', { content: 'x' })).status,
      404,
    );
    assert.equal((await post(`/users/me/rooms/${r1.uuid}/messages`, { alias: 'no content' })).status, 400);
    const noAuth = await fetch(`${wazo.url}/api/chatd/1.0/users/me/rooms`);
    assert.equal(noAuth.status, 401);
    assert.equal(((await noAuth.json()) as { error_id: string }).error_id, 'unauthorized');
  });

  it('failure switches: failNext and down/recover', async () => {
    const t = (await token('alice', 'pw-a')).json.data.token;
    wazo.failNext('chatd', 503);
    assert.equal(
      (await fetch(`${wazo.url}/api/chatd/1.0/users/me/rooms`, { headers: { 'x-auth-token': t } })).status,
      503,
    );
    assert.equal(
      (await fetch(`${wazo.url}/api/chatd/1.0/users/me/rooms`, { headers: { 'x-auth-token': t } })).status,
      200,
    );
    wazo.down('confd', 502);
    assert.equal((await fetch(`${wazo.url}/api/confd/1.1/users`, { headers: { 'x-auth-token': t } })).status, 502);
    wazo.recover('confd');
    assert.equal(
      (await fetch(`${wazo.url}/api/confd/1.1/users`, { headers: { 'x-auth-token': t } })).status,
      401,
      'user token cannot read confd',
    );
  });

  it('websocketd: init, subscribe, start, events for the user only, ping, expiry close', async () => {
    const t = (await token('bob', 'pw-b', { expiration: 30 })).json.data.token;
    const ws = new WebSocket(`${wazo.websocketUrl}?token=${t}&version=2`);
    const frames: { op: string; data?: Record<string, unknown> }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ op: 'subscribe', data: { event_name: 'chatd_user_room_message_created' } }));
    ws.send(JSON.stringify({ op: 'start' }));
    ws.send(JSON.stringify({ op: 'ping', data: { payload: 'p' } }));
    const deadline = Date.now() + 2000;
    while (!frames.some((f) => f.op === 'pong') && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(frames[0].op, 'init');
    const ta = (await token('alice', 'pw-a')).json.data.token;
    const rooms = (await (
      await fetch(`${wazo.url}/api/chatd/1.0/users/me/rooms`, { headers: { 'x-auth-token': ta } })
    ).json()) as { items: { uuid: string }[] };
    await fetch(`${wazo.url}/api/chatd/1.0/users/me/rooms/${rooms.items[0].uuid}/messages`, {
      method: 'POST',
      headers: { 'x-auth-token': ta },
      body: '{"content":"to bob"}',
    });
    while (!frames.some((f) => f.op === 'event') && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const ev = frames.find((f) => f.op === 'event')!;
    assert.equal(ev.data?.[`user_uuid:${bob.uuid}`], true);
    assert.equal(ev.data?.[`user_uuid:${alice.uuid}`], undefined, 'a user sees only its own copy');
    clock.advance(31_000);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    wazo.websocketd.enforceTokenExpiry();
    assert.equal(await closed, 4003);
  });
});
