/**
 * Wazo → Matrix recovery paths (issue #4 point 1): what the websocket backfill re-reads after a drop, where its
 * cursor stands, and what survives a puppet that cannot read.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { RemoteEvent } from '../../src/bridge/index.ts';
import { login, type Setup, setup, until } from './helpers.ts';

/** Posts as `username` through chatd directly (what a Wazo client does). */
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

/** Drops the websocket and lets the connector reconnect (backoff 1000 ms × (0.8 + 0.4 × 0.5)). */
async function reconnect(s: Setup): Promise<void> {
  s.wazo.websocketd.dropAll();
  await until(() => !s.connector.streaming, 'disconnect');
  const accepted = s.wazo.websocketd.accepted;
  s.clock.advance(1000);
  await until(() => s.wazo.websocketd.accepted === accepted + 1 && s.connector.streaming, 'reconnect');
}

const roomListings = (s: Setup) =>
  s.wazo.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/users/me/rooms')).length;

describe('websocket backfill and its cursor', () => {
  let s: Setup;
  afterEach(() => s?.close());

  it('a message whose queueing failed is re-read by the next backfill, though later messages moved on', async () => {
    s = await setup({ connector: { pingIntervalMs: 3600_000 } });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    s.wazo.addUser({ username: 'carol', password: 'pw-c' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const c = await wazoClient(s, 'carol', 'pw-c');
    const roomB = await b.room([alice.uuid]);
    const roomC = await c.room([alice.uuid]);
    // The outbox refuses the message of room B (a failed write): the websocket has no retry, only backfill.
    const queue = s.host.queueRemoteEvent.bind(s.host);
    let refused = 0;
    s.host.queueRemoteEvent = async (ev: RemoteEvent) => {
      if (ev.kind === 'message' && ev.portal.id === roomB.uuid && refused++ === 0) throw new Error('disk full');
      return queue(ev);
    };
    await b.say(roomB.uuid, 'lost for now');
    await until(() => refused === 1, 'refused');
    // Later messages in another room are queued: the cursor must not pass the refused one.
    s.clock.advance(60_000);
    await c.say(roomC.uuid, 'a minute later');
    await until(() => s.host.texts().includes('a minute later'), 'later message');
    s.clock.advance(1000);
    await reconnect(s);
    await until(() => s.host.texts().includes('lost for now'), 'refused message backfilled');
    assert.deepEqual(s.host.texts().sort(), ['a minute later', 'lost for now']);
  });

  it('one puppet that cannot read does not stop the backfill of the others; a failed backfill is retried', async () => {
    s = await setup({ connector: { pingIntervalMs: 3600_000 } });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    const dave = s.wazo.addUser({ username: 'dave', password: 'pw-d' });
    s.wazo.addUser({ username: 'bob', password: 'pw-b' });
    // Dave logs in first, so his puppet is read first; then his refresh token is revoked on the Wazo side.
    await login(s, '@dave:hs', 'dave', 'pw-d');
    await login(s, '@alice:hs', 'alice', 'pw-a');
    for (const k of [...s.wazo.state.refreshTokens.keys()])
      if (k.startsWith(dave.uuid)) s.wazo.state.refreshTokens.delete(k);
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const room = await b.room([alice.uuid]);
    await b.room([dave.uuid]);
    await b.say(room.uuid, 'one');
    await until(() => s.host.texts().length === 1, 'first');
    s.clock.advance(1000);
    s.wazo.websocketd.dropAll();
    await until(() => !s.connector.streaming, 'disconnect');
    await b.say(room.uuid, 'two (while down)');
    await reconnect(s);
    await until(() => s.host.texts().includes('two (while down)'), 'alice backfilled despite dave');

    // chatd down at the next reconnect: the backfill fails, and is tried again later from the same point.
    s.clock.advance(1000);
    s.wazo.websocketd.dropAll();
    await until(() => !s.connector.streaming, 'disconnect 2');
    await b.say(room.uuid, 'three (while down)');
    s.wazo.down('chatd');
    const listings = roomListings(s);
    await reconnect(s);
    await until(() => roomListings(s) >= listings + 1, 'backfill tried');
    await new Promise((r) => setTimeout(r, 50));
    s.wazo.recover('chatd');
    assert.ok(!s.host.texts().includes('three (while down)'));
    // A live message moves the cursor on in the meantime; the retry must still start from before the drop.
    s.clock.advance(10_000);
    await b.say(room.uuid, 'four (live)');
    await until(() => s.host.texts().includes('four (live)'), 'live');
    s.clock.advance(60_000);
    await until(() => s.host.texts().includes('three (while down)'), 'retried backfill');
    assert.deepEqual(s.host.texts(), ['one', 'two (while down)', 'four (live)', 'three (while down)']);
  });
});

describe('ghost profiles through the pipeline', () => {
  let s: Setup;
  afterEach(() => s?.close());

  it('a ghost made while confd was down gets its name once confd answers', async () => {
    s = await setup({ connector: { pingIntervalMs: 3600_000 } });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw-b', firstname: 'Bob', lastname: 'Builder' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const room = await b.room([alice.uuid]);
    s.wazo.down('confd');
    await b.say(room.uuid, 'confd is down');
    await b.say(room.uuid, 'still down');
    await until(() => s.host.texts().length === 2, 'messages not held back by confd');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.host.ghosts.get(bob.uuid)?.name, undefined, 'the ghost has no name yet');
    const confdCalls = () => s.wazo.requests.filter((r) => r.daemon === 'confd').length;
    const calls = confdCalls();
    await b.say(room.uuid, 'a third one while down');
    await until(() => s.host.texts().length === 3, 'third');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(confdCalls(), calls, 'a failed lookup is not repeated for every message');
    s.wazo.recover('confd');
    s.clock.advance(61_000);
    await b.say(room.uuid, 'confd is back');
    await until(() => s.host.ghosts.get(bob.uuid)?.name === 'Bob Builder', 'ghost named after confd came back');
  });

  it('after a restart (ghost stored by the core), a confd change still reaches the ghost', async () => {
    s = await setup({ connector: { pingIntervalMs: 3600_000 } });
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw-a' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw-b', firstname: 'Bob', lastname: 'Renamed' });
    // Stored before the restart, under the name Bob had then: the core will not ask for it again.
    s.host.ghosts.set(bob.uuid, { name: 'Bob Old' });
    await login(s, '@alice:hs', 'alice', 'pw-a');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const b = await wazoClient(s, 'bob', 'pw-b');
    const room = await b.room([alice.uuid]);
    await b.say(room.uuid, 'hello after the restart');
    await b.say(room.uuid, 'and again');
    await until(() => s.host.ghosts.get(bob.uuid)?.name === 'Bob Renamed', 'ghost-info queued');
  });
});
