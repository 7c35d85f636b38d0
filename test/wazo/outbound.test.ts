import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  isDmCreatingPuppet,
  isEditingPuppet,
  isReactingPuppet,
  isRedactingPuppet,
  type MatrixEventId,
  type MatrixUserId,
  type OutgoingMessage,
  PortalGoneError,
  PuppetLoggedOutError,
  remoteMessageId,
  remoteRoomId,
  remoteUserId,
} from '../../src/bridge/index.ts';
import { RemoteApiError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import { AuthClient, ConfdClient, RenewingToken, UserDirectory, WazoHttp } from '../../src/wazo/index.ts';
import { ENCRYPTION_KEY, login, type Setup, setup, until } from './helpers.ts';

const msg = (text: string, over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  body: { kind: 'text', text },
  eventId: '$ev1' as MatrixEventId,
  sender: { userId: '@alice:hs' as MatrixUserId, displayName: 'Alice Liddell' },
  at: new Date('2026-11-22T09:00:00Z'),
  ...over,
});

describe('login flow', () => {
  let s: Setup;
  afterEach(() => s?.close());

  it('asks username then password (secret), stores the refresh token encrypted, confirms with the name', async () => {
    s = await setup();
    const alice = s.wazo.addUser({
      username: 'alice',
      password: 'pw-alice-123',
      firstname: 'Alice',
      lastname: 'Liddell',
    });
    const flow = s.connector.createLogin('@alice:hs' as MatrixUserId);
    assert.deepEqual(await flow.start([]), { kind: 'input', prompt: 'Send your Wazo username.' });
    assert.deepEqual(await flow.submit('alice'), { kind: 'input', prompt: 'Send your Wazo password.', secret: true });
    const done = await flow.submit('pw-alice-123');
    assert.equal(done.kind, 'done');
    if (done.kind !== 'done') return;
    assert.equal(done.message, 'Logged in as Alice Liddell (alice)');
    assert.equal(done.puppet.remoteUser, alice.uuid);
    const refresh = s.wazo.state.refreshTokens.get(`${alice.uuid}/matrix-crm-bridge`);
    assert.ok(refresh);
    assert.ok(!done.puppet.credentials.includes(refresh), 'refresh token is not stored in clear');
    assert.ok(!done.puppet.credentials.includes('pw-alice-123'), 'password is never stored');
    const tokenPost = s.wazo.requests.find((r) => r.path === '/api/auth/0.1/token');
    assert.deepEqual(JSON.parse(tokenPost!.body), {
      expiration: 3600,
      access_type: 'offline',
      client_id: 'matrix-crm-bridge',
    });
    assert.equal(s.wazo.state.mobileLogins, 0, 'never a mobile session');
  });

  it('login <username> skips the question; a wrong password is refused with a readable message', async () => {
    s = await setup();
    s.wazo.addUser({ username: 'alice', password: 'right' });
    const flow = s.connector.createLogin('@alice:hs' as MatrixUserId);
    assert.equal((await flow.start(['alice'])).kind, 'input');
    await assert.rejects(flow.submit('wrong'), /refused this username or password/);
  });

  it('refreshes on 401 once, then marks the puppet logged out; logout revokes the refresh token', async () => {
    s = await setup();
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw' });
    const record = await login(s, '@alice:hs', 'alice', 'pw');
    const puppet = await s.connector.connectPuppet(record);
    assert.ok(isDmCreatingPuppet(puppet));
    const { portal } = await puppet.createRoom([remoteUserId(bob.uuid)]);
    await puppet.send(portal, msg('first'));
    s.wazo.state.expireAllTokens();
    const r = await puppet.send(portal, msg('after expiry'));
    assert.ok('remoteId' in r, 'a fresh access token was minted from the refresh token');
    assert.equal(s.wazo.state.messages.at(-1)?.user_uuid, alice.uuid);
    await s.connector.logout(record);
    assert.equal(s.wazo.state.refreshTokens.has(`${alice.uuid}/matrix-crm-bridge`), false);
    s.wazo.state.expireAllTokens();
    const again = await s.connector.connectPuppet({ ...record, credentials: record.credentials });
    await assert.rejects(again.send(portal, msg('x')), PuppetLoggedOutError);
  });

  it('unreadable credentials (key changed) → logged out', async () => {
    s = await setup();
    await assert.rejects(
      s.connector.connectPuppet({
        matrixUser: '@x:hs' as MatrixUserId,
        remoteUser: remoteUserId('u'),
        remoteName: 'x',
        credentials: '{"v":1,"username":"x","refresh":"v1.a.b.c"}',
      }),
      PuppetLoggedOutError,
    );
  });
});

describe('Matrix → Wazo sends', () => {
  let s: Setup;
  afterEach(() => s?.close());

  it('relay posts with alias = display name; no redaction/reaction extras by default', async () => {
    s = await setup();
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw' });
    const puppet = await s.connector.connectPuppet(await login(s, '@alice:hs', 'alice', 'pw'));
    assert.ok(isDmCreatingPuppet(puppet));
    const { portal } = await puppet.createRoom([remoteUserId(bob.uuid)]);
    const relay = s.connector.relay()!;
    const r = await relay.send(
      portal,
      msg('hello from matrix', { relayedFor: { userId: '@zoe:hs' as MatrixUserId, displayName: 'Zoe (Matrix)' } }),
    );
    assert.ok('remoteId' in r);
    const stored = s.wazo.state.messages.at(-1)!;
    assert.equal(stored.alias, 'Zoe (Matrix)');
    assert.equal(stored.user_uuid, s.relay.uuid);
    assert.equal(stored.content, 'hello from matrix');
    assert.equal(isRedactingPuppet(relay), false);
    assert.equal(isReactingPuppet(relay), false);
    assert.ok(isEditingPuppet(relay));
    void alice;
  });

  it('each content kind reaches chatd as text; edits as "* corrected"; reactions when enabled', async () => {
    s = await setup({ bridge: { reactions: true } });
    s.wazo.addUser({ username: 'alice', password: 'pw' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw' });
    const puppet = await s.connector.connectPuppet(await login(s, '@alice:hs', 'alice', 'pw'));
    assert.ok(isDmCreatingPuppet(puppet) && isEditingPuppet(puppet) && isReactingPuppet(puppet));
    const { portal } = await puppet.createRoom([remoteUserId(bob.uuid)]);
    await puppet.send(portal, msg('plain'));
    await puppet.send(portal, msg('n', { body: { kind: 'notice', text: 'notice text' } }));
    await puppet.send(portal, msg('', { body: { kind: 'emote', text: 'waves' } }));
    await puppet.send(
      portal,
      msg('', { body: { kind: 'text', text: 'bold', html: '<strong>bold</strong> <a href="https://x.org">x</a>' } }),
    );
    await puppet.send(portal, msg('', { body: { kind: 'text', text: 'yes' }, replyQuote: 'Shall we?' }));
    await puppet.send(
      portal,
      msg('', {
        body: {
          kind: 'text',
          text: 'a.pdf',
          media: { kind: 'file', name: 'a.pdf', url: 'https://media.example.org/a.pdf' },
        },
      }),
    );
    await puppet.sendEdit(portal, remoteMessageId('x'), msg('', { body: { kind: 'text', text: 'fixed' } }));
    await puppet.sendReaction(portal, remoteMessageId('x'), '👍', msg(''));
    assert.deepEqual(
      s.wazo.state.messages.map((m) => m.content),
      [
        'plain',
        'notice text',
        '* Alice Liddell waves',
        '**bold** [x](https://x.org)',
        '> Shall we?\nyes',
        'a.pdf: https://media.example.org/a.pdf',
        '* fixed',
        'Alice Liddell reacted 👍',
      ],
    );
  });

  it('Matrix-initiated DM: creates the chatd room; the same member set returns the same room', async () => {
    s = await setup();
    const alice = s.wazo.addUser({ username: 'alice', password: 'pw' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw' });
    const carol = s.wazo.addUser({ username: 'carol', password: 'pw' });
    const puppet = await s.connector.connectPuppet(await login(s, '@alice:hs', 'alice', 'pw'));
    assert.ok(isDmCreatingPuppet(puppet));
    const dm = await puppet.createRoom([remoteUserId(bob.uuid)]);
    assert.equal(dm.info.isDirect, true);
    assert.equal(dm.info.fixedMembers, true);
    assert.deepEqual([...dm.info.members].sort(), [alice.uuid, bob.uuid].sort());
    assert.equal((await puppet.createRoom([remoteUserId(bob.uuid)])).portal.id, dm.portal.id);
    const group = await puppet.createRoom([remoteUserId(bob.uuid), remoteUserId(carol.uuid)]);
    assert.notEqual(group.portal.id, dm.portal.id);
    assert.equal(group.info.isDirect, false);
  });

  it('echo suppression: our own message coming back over the websocket is not bridged back', async () => {
    s = await setup();
    s.wazo.addUser({ username: 'alice', password: 'pw' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw' });
    const record = await login(s, '@alice:hs', 'alice', 'pw');
    await s.connector.start(s.host, s.controller.signal);
    await until(() => s.connector.streaming, 'websocket');
    const puppet = await s.connector.connectPuppet(record);
    assert.ok(isDmCreatingPuppet(puppet));
    const { portal } = await puppet.createRoom([remoteUserId(bob.uuid)]);
    // The event is published before the POST answers: it must wait for the answer and then be dropped.
    await puppet.send(portal, msg('from matrix'));
    const relay = s.connector.relay()!;
    await relay.send(portal, msg('relayed', { relayedFor: { userId: '@z:hs' as MatrixUserId, displayName: 'Z' } }));
    await s.wazo.flush();
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(s.host.texts(), []);
  });

  it('failures: chatd down → retryable error then success; 404 room → portal gone; timeout: puppet checks history, relay unconfirmed', async () => {
    s = await setup({ connector: { httpTimeoutMs: 150 } });
    s.wazo.addUser({ username: 'alice', password: 'pw' });
    const bob = s.wazo.addUser({ username: 'bob', password: 'pw' });
    const puppet = await s.connector.connectPuppet(await login(s, '@alice:hs', 'alice', 'pw'));
    assert.ok(isDmCreatingPuppet(puppet));
    const { portal } = await puppet.createRoom([remoteUserId(bob.uuid)]);
    s.wazo.down('chatd', 503);
    await assert.rejects(
      puppet.send(portal, msg('queued while down')),
      (e: unknown) => e instanceof RemoteApiError && e.retryable,
    );
    s.wazo.recover('chatd');
    assert.ok('remoteId' in (await puppet.send(portal, msg('queued while down'))));
    await assert.rejects(
      puppet.send({ id: remoteRoomId('00000000-0000-4000-8000-000000000000') }, msg('x')),
      PortalGoneError,
    );
    s.wazo.failAfterCommit('hang');
    const r = await puppet.send(portal, msg('stored but unanswered'));
    assert.ok('remoteId' in r, 'found in history: no retry, no duplicate');
    assert.equal(s.wazo.state.messages.filter((m) => m.content === 'stored but unanswered').length, 1);
    s.wazo.failAfterCommit('hang');
    const rr = await s.connector
      .relay()!
      .send(portal, msg('relay timeout', { relayedFor: { userId: '@z:hs' as MatrixUserId, displayName: 'Z' } }));
    assert.ok('unconfirmed' in rr);
  });
});

describe('confd directory', () => {
  it('batches ≤ 20 uuids per call, caches, and expires the cache', async () => {
    const s = await setup();
    try {
      const users = Array.from({ length: 45 }, (_, i) =>
        s.wazo.addUser({ username: `u${i}`, firstname: `First${i}`, lastname: 'Last', email: `u${i}@e.org` }),
      );
      const http = new WazoHttp({ baseUrl: s.wazo.url, verifyTls: true });
      const auth = new AuthClient(http);
      const token = new RenewingToken({ now: s.clock.now, mint: () => auth.passwordLogin('mcb-service', 'svc-pass') });
      const dir = new UserDirectory({
        fetch: (u) => new ConfdClient(http, token).usersByUuid(u),
        now: s.clock.now,
        ttlMs: 60_000,
      });
      const confdCalls = () => s.wazo.requests.filter((r) => r.daemon === 'confd');
      const [a, b] = await Promise.all([
        dir.lookup(users.map((u) => u.uuid)),
        dir.lookup(users.slice(0, 5).map((u) => u.uuid)),
      ]);
      assert.equal(confdCalls().length, 3);
      assert.ok(confdCalls().every((r) => r.query.uuid.split(',').length <= 20));
      assert.equal(a.get(users[44].uuid)?.displayName, 'First44 Last');
      assert.equal(b.get(users[0].uuid)?.email, 'u0@e.org');
      await dir.lookup([users[3].uuid]);
      assert.equal(confdCalls().length, 3, 'cached');
      s.clock.advance(60_001);
      await dir.lookup([users[3].uuid]);
      assert.equal(confdCalls().length, 4, 'expired entry fetched again');
      http.close();
      void silentLogger;
      void ENCRYPTION_KEY;
    } finally {
      await s.close();
    }
  });
});

describe('webhookd subscription management', () => {
  it('creates, leaves unchanged, and updates our subscription (found by metadata owner)', async () => {
    const s = await setup();
    try {
      const { WebhookdClient } = await import('../../src/wazo/index.ts');
      const http = new WazoHttp({ baseUrl: s.wazo.url, verifyTls: true });
      const auth = new AuthClient(http);
      const token = new RenewingToken({ now: s.clock.now, mint: () => auth.passwordLogin('mcb-service', 'svc-pass') });
      const client = new WebhookdClient(http, token);
      s.wazo.state.subscriptions.set('other', {
        uuid: '99999999-9999-4999-8999-999999999999',
        name: 'someone else',
        service: 'http',
        events: ['call_created'],
        events_user_uuid: null,
        events_wazo_uuid: null,
        config: { url: 'https://other', method: 'post' },
        metadata: { owner: 'crm-sync' },
        owner_tenant_uuid: s.wazo.state.tenantUuid,
        owner_user_uuid: null,
      });
      const first = await client.ensureSubscription({
        url: 'https://bridge.example.org/wazo/events/s1',
        verifyTls: true,
      });
      assert.equal(first.action, 'created');
      assert.equal(
        (await client.ensureSubscription({ url: 'https://bridge.example.org/wazo/events/s1', verifyTls: true })).action,
        'unchanged',
      );
      const moved = await client.ensureSubscription({
        url: 'https://bridge2.example.org/wazo/events/s1',
        verifyTls: true,
      });
      assert.deepEqual(moved, { action: 'updated', uuid: first.uuid });
      assert.equal(s.wazo.state.subscriptions.size, 2, 'the other subscription is untouched, ours exists once');
      const ours = s.wazo.state.subscriptions.get(first.uuid)!;
      assert.equal(ours.config.url, 'https://bridge2.example.org/wazo/events/s1');
      assert.deepEqual(ours.events.sort(), ['chatd_user_room_created', 'chatd_user_room_message_created']);
      assert.equal(ours.metadata.owner, 'matrix-crm-bridge');
      http.close();
    } finally {
      await s.close();
    }
  });

  it('the connector keeps its subscription at start when manage_subscription is on (webhook mode)', async () => {
    const s = await setup({
      events: 'webhook',
      wazo: { manage_subscription: true, public_url: 'https://bridge.example.org/' },
    });
    try {
      s.wazo.failNext('webhookd', 503);
      await s.connector.start(s.host, s.controller.signal);
      await until(
        () => s.wazo.requests.some((r) => r.daemon === 'webhookd') && s.clock.pending > 0,
        'first attempt, retry scheduled',
      );
      assert.equal(s.wazo.state.subscriptions.size, 0);
      s.clock.advance(3000);
      await until(() => s.wazo.state.subscriptions.size === 1, 'created after a retry');
      const sub = [...s.wazo.state.subscriptions.values()][0];
      assert.equal(sub.config.url, 'https://bridge.example.org/wazo/events/a-long-webhook-secret-0123456789');
      assert.match(sub.config.body, /event_name/);
    } finally {
      await s.close();
    }
  });
});
