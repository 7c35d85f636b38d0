import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RemoteApiError } from '../errors.ts';
import { FakeHomeserver } from '../testing/fake-homeserver/index.ts';
import { MatrixApi } from './api.ts';
import { IntentFactory, txnIdFor } from './intent.ts';

const AS = {
  id: 'unit',
  url: null,
  as_token: 'a'.repeat(64),
  hs_token: 'b'.repeat(64),
  sender_localpart: 'bot',
  namespaces: { users: [{ regex: '^@g_.*:localhost$', exclusive: true }] },
};

describe('Matrix intents against the fake homeserver', () => {
  let hs: FakeHomeserver;
  let sleeps: number[];
  let api: MatrixApi;
  before(async () => {
    hs = await new FakeHomeserver().start();
    hs.registerAppservice(AS);
  });
  after(() => hs.stop());
  const fresh = () => {
    sleeps = [];
    api = new MatrixApi({
      baseUrl: hs.url,
      asToken: AS.as_token,
      botUserId: '@bot:localhost',
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    });
    return new IntentFactory(api);
  };

  it('registers a ghost once under concurrency, and treats M_USER_IN_USE as success', async () => {
    const f = fresh();
    const before = hs.requestsTo(/\/register$/).length;
    await Promise.all(Array.from({ length: 20 }, () => f.intent('@g_one:localhost').ensureRegistered()));
    assert.equal(hs.requestsTo(/\/register$/).length - before, 1);
    const body = hs.requestsTo(/\/register$/).at(-1)?.body as { inhibit_login?: boolean } | undefined;
    assert.equal(body?.inhibit_login, true);
    // A new process (fresh registrar) meets the existing user: 400 M_USER_IN_USE counts as done.
    const g = fresh();
    await g.intent('@g_one:localhost').ensureRegistered();
    assert.equal(hs.requestsTo(/\/register$/).at(-1)?.status, 400);
    assert.ok(g.registrar.isRegistered('@g_one:localhost'));
  });

  it('asserts identity with user_id and sends with the given txnId and ts (idempotent)', async () => {
    const f = fresh();
    const ghost = f.intent('@g_two:localhost');
    await ghost.ensureRegistered();
    const roomId = await f.bot.createRoom({ preset: 'private_chat', invite: [ghost.userId] });
    await ghost.join(roomId);
    const txn = txnIdFor('remote:1');
    const a = await ghost.sendEvent(
      roomId,
      'm.room.message',
      { msgtype: 'm.text', body: 'hi' },
      txn,
      1_700_000_000_000,
    );
    const b = await ghost.sendEvent(
      roomId,
      'm.room.message',
      { msgtype: 'm.text', body: 'hi' },
      txn,
      1_700_000_000_000,
    );
    assert.equal(a, b, 'retried send returns the first event');
    const sends = hs.requestsTo(/\/send\//, 'PUT');
    assert.equal(sends.at(-1)?.query.user_id, '@g_two:localhost');
    assert.equal(sends.at(-1)?.query.ts, '1700000000000');
    const room = hs.model.rooms.get(roomId)!;
    assert.equal(room.events.filter((e) => e.type === 'm.room.message').length, 1);
    assert.equal(room.events.at(-1)?.origin_server_ts, 1_700_000_000_000);
  });

  it('honours 429 Retry-After (then retry_after_ms) without waiting for real', async () => {
    const f = fresh();
    hs.rateLimit(/\/account\/whoami$/, 2500, 1);
    await f.bot.whoami();
    assert.deepEqual(sleeps, [1000], 'Retry-After 3 s capped at maxDelayMs 1000');
    sleeps.length = 0;
    hs.fail({
      path: /\/account\/whoami$/,
      status: 429,
      body: { errcode: 'M_LIMIT_EXCEEDED', error: 'slow down', retry_after_ms: 700 },
    });
    await f.bot.whoami();
    assert.deepEqual(sleeps, [700]);
  });

  it('retries 5xx and network-like failures with capped exponential backoff, then gives up retryably', async () => {
    const f = fresh();
    hs.fail({ path: /\/account\/whoami$/, status: 502, times: 2 });
    await f.bot.whoami();
    assert.deepEqual(sleeps, [100, 200]);
    sleeps.length = 0;
    hs.fail({ path: /\/account\/whoami$/, status: 500, times: 10 });
    await assert.rejects(
      f.bot.whoami(),
      (e: unknown) => e instanceof RemoteApiError && e.retryable && e.remoteStatus === 500,
    );
    assert.deepEqual(sleeps, [100, 200, 400]);
    hs.failures.length = 0;
  });

  it('never retries other 4xx', async () => {
    const f = fresh();
    hs.fail({ path: /\/account\/whoami$/, status: 400, body: { errcode: 'M_UNKNOWN', error: 'no' }, times: 5 });
    await assert.rejects(
      f.bot.whoami(),
      (e: unknown) => e instanceof RemoteApiError && !e.retryable && e.remoteStatus === 400,
    );
    assert.deepEqual(sleeps, []);
    hs.failures.length = 0;
  });

  it('rejects identity assertion outside the namespace (fake follows Synapse)', async () => {
    const f = fresh();
    await assert.rejects(
      f.intent('@alice:localhost').whoami(),
      (e: unknown) => e instanceof RemoteApiError && e.remoteStatus === 403,
    );
  });
});
