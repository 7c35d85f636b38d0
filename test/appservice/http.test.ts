import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeFetch } from '../../src/matrix/fetch.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { type BridgeUnderTest, newTokens, registrationFor, startBridge, type Tokens } from './harness.ts';
import { TestConnector } from './test-connector.ts';

const ev = (n: number, room = '!r:localhost') => ({
  type: 'm.room.message',
  room_id: room,
  event_id: `$e${n}`,
  sender: '@alice:localhost',
  origin_server_ts: 1_767_225_600_000 + n,
  content: { msgtype: 'm.text', body: `hello ${n}` },
});

function outboxCount(b: BridgeUnderTest): number {
  return (b.database.sqlite.prepare('select count(*) as n from outbox').get() as { n: number }).n;
}

describe('appservice HTTP API', () => {
  let hs: FakeHomeserver;
  let tokens: Tokens;
  let b: BridgeUnderTest;
  const put = (path: string, body: unknown, auth?: string, raw?: string) =>
    fetch(`${b.server.url}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: raw ?? JSON.stringify(body),
    });

  before(async () => {
    hs = await new FakeHomeserver().start();
    tokens = newTokens();
    hs.registerAppservice(registrationFor(tokens, null));
    b = await startBridge(hs, tokens, { connector: new TestConnector() });
  });
  after(async () => {
    await b.stop();
    await hs.stop();
  });

  it('answers 401 M_MISSING_TOKEN without a token', async () => {
    const r = await put('/_matrix/app/v1/transactions/t0', { events: [] });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { errcode: string }).errcode, 'M_MISSING_TOKEN');
  });

  it('answers 403 M_FORBIDDEN for a wrong token, in the header or the legacy query parameter', async () => {
    const r = await put('/_matrix/app/v1/transactions/t0', { events: [] }, 'nope');
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { errcode: string }).errcode, 'M_FORBIDDEN');
    const q = await put('/_matrix/app/v1/transactions/t0?access_token=nope', { events: [] });
    assert.equal(q.status, 403);
    const both = await put(`/_matrix/app/v1/transactions/t0?access_token=other`, { events: [] }, tokens.hs_token);
    assert.equal(both.status, 403, 'header and query must agree');
  });

  it('accepts the right token as Bearer and as legacy access_token, on v1 and unprefixed paths', async () => {
    assert.equal((await put('/_matrix/app/v1/transactions/ok1', { events: [] }, tokens.hs_token)).status, 200);
    const legacy = await put(`/transactions/ok2?access_token=${tokens.hs_token}`, { events: [] });
    assert.equal(legacy.status, 200);
    assert.deepEqual(await legacy.json(), {});
    const ping = await fetch(`${b.server.url}/_matrix/app/v1/ping`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.hs_token}`, 'content-type': 'application/json' },
      body: '{"transaction_id":"x"}',
    });
    assert.equal(ping.status, 200);
    const legacyPing = await fetch(`${b.server.url}/ping?access_token=${tokens.hs_token}`, {
      method: 'POST',
      body: '{}',
    });
    assert.equal(legacyPing.status, 200);
  });

  it('rejects malformed bodies with M_NOT_JSON / M_BAD_JSON', async () => {
    const notJson = await put('/_matrix/app/v1/transactions/bad1', undefined, tokens.hs_token, '{nope');
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { errcode: string }).errcode, 'M_NOT_JSON');
    const arr = await put('/_matrix/app/v1/transactions/bad2', [1, 2], tokens.hs_token);
    assert.equal(((await arr.json()) as { errcode: string }).errcode, 'M_NOT_JSON');
    const noEvents = await put('/_matrix/app/v1/transactions/bad3', { ephemeral: [] }, tokens.hs_token);
    assert.equal(noEvents.status, 400);
    assert.equal(((await noEvents.json()) as { errcode: string }).errcode, 'M_BAD_JSON');
    const eventsNotArray = await put('/_matrix/app/v1/transactions/bad4', { events: {} }, tokens.hs_token);
    assert.equal(((await eventsNotArray.json()) as { errcode: string }).errcode, 'M_BAD_JSON');
  });

  it('ignores unknown top-level keys and skips a single bad event without failing the transaction', async () => {
    const before = outboxCount(b);
    const r = await put(
      '/_matrix/app/v1/transactions/mixed',
      {
        events: [ev(1), { type: 42 }, 'junk', ev(2)],
        'org.matrix.msc3202.device_lists': { changed: [] },
        'de.sorunome.msc2409.to_device': [],
      },
      tokens.hs_token,
    );
    assert.equal(r.status, 200);
    assert.equal(outboxCount(b) - before, 2);
  });

  it('answers a repeated txnId with {} without processing it again', async () => {
    const before = outboxCount(b);
    assert.equal(
      (await put('/_matrix/app/v1/transactions/dup', { events: [ev(10), ev(11)] }, tokens.hs_token)).status,
      200,
    );
    assert.equal(outboxCount(b) - before, 2);
    const again = await put('/_matrix/app/v1/transactions/dup', { events: [ev(12)] }, tokens.hs_token);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), {});
    assert.equal(outboxCount(b) - before, 2, 'second delivery not processed');
  });

  it("accepts Synapse's largest transaction whatever [http] max_body_bytes says (a 413 would be retried forever)", async () => {
    // Synapse: up to 100 events per transaction, each up to the 64 KiB PDU limit. The harness limit is 1 MiB.
    const big = Array.from({ length: 100 }, (_, i) => ({
      ...ev(1000 + i),
      content: { msgtype: 'm.text', body: 'x'.repeat(60_000) },
    }));
    const before = outboxCount(b);
    const r = await put('/_matrix/app/v1/transactions/huge', { events: big }, tokens.hs_token);
    assert.equal(r.status, 200);
    assert.equal(outboxCount(b) - before, 100);
    const legacy = await put(`/transactions/huge2?access_token=${tokens.hs_token}`, { events: big.slice(0, 30) });
    assert.equal(legacy.status, 200);
    // Other routes keep the configured limit, and a transaction has a limit too. (A fresh connection each: the
    // server answers 413 before reading the whole body, then closes the connection.)
    const send = (method: string, path: string, body: string) =>
      nodeFetch(`${b.server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens.hs_token}`, 'content-type': 'application/json' },
        body,
        keepAlive: false,
      }).catch((err: unknown) => ({ status: String(err) }));
    const ping = await send('POST', '/_matrix/app/v1/ping', JSON.stringify({ transaction_id: 'x'.repeat(2 << 20) }));
    assert.equal(ping.status, 413);
    const huge = await send(
      'PUT',
      '/_matrix/app/v1/transactions/too-big',
      JSON.stringify({ events: [], pad: 'x'.repeat(17 << 20) }),
    );
    assert.equal(huge.status, 413);
  });

  it('answers 405 for a wrong method and 404 for users that are not ours', async () => {
    const r = await fetch(`${b.server.url}/_matrix/app/v1/transactions/x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.hs_token}` },
    });
    assert.equal(r.status, 405);
    const u = await fetch(`${b.server.url}/_matrix/app/v1/users/${encodeURIComponent('@alice:localhost')}`, {
      headers: { authorization: `Bearer ${tokens.hs_token}` },
    });
    assert.equal(u.status, 404);
    const alias = await fetch(`${b.server.url}/_matrix/app/v1/rooms/${encodeURIComponent('#tn_x:localhost')}`, {
      headers: { authorization: `Bearer ${tokens.hs_token}` },
    });
    assert.equal(alias.status, 404);
  });

  it('registers a ghost on a user query for our namespace', async () => {
    const u = await fetch(`${b.server.url}/_matrix/app/v1/users/${encodeURIComponent('@tn_bob:localhost')}`, {
      headers: { authorization: `Bearer ${tokens.hs_token}` },
    });
    assert.equal(u.status, 200);
    assert.ok(hs.model.users.has('@tn_bob:localhost'));
  });
});

describe('transaction dedupe across a restart', () => {
  it('does not reprocess a txnId seen before the restart, but does after a token change', async () => {
    const hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    hs.registerAppservice(registrationFor(tokens, null));
    const dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'mcb-as-')), 'bridge.db')}`;
    const first = await startBridge(hs, tokens, { dbUrl, connector: new TestConnector() });
    const body = JSON.stringify({ events: [ev(1, '!x:localhost')] });
    const send = (b: BridgeUnderTest, token: string, txn: string, payload = body) =>
      fetch(`${b.server.url}/_matrix/app/v1/transactions/${txn}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body: payload,
      });
    assert.equal((await send(first, tokens.hs_token, '1')).status, 200);
    await first.bridge.idle();
    await first.stop();

    const second = await startBridge(hs, tokens, { dbUrl, connector: new TestConnector() });
    const before = outboxCount(second);
    assert.equal(
      (await send(second, tokens.hs_token, '1', JSON.stringify({ events: [ev(2, '!x:localhost')] }))).status,
      200,
    );
    assert.equal(outboxCount(second), before, 'txn 1 was not processed again after the restart');
    await second.stop();

    // A regenerated registration restarts the homeserver's counter: txn "1" under the new token is new.
    const regenerated = { ...tokens, hs_token: newTokens().hs_token };
    const third = await startBridge(hs, regenerated, { dbUrl, connector: new TestConnector() });
    assert.equal(
      (await send(third, regenerated.hs_token, '1', JSON.stringify({ events: [ev(3, '!x:localhost')] }))).status,
      200,
    );
    assert.equal(outboxCount(third), before + 1);
    await third.stop();
    await hs.stop();
  });
});
