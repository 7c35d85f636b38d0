import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MatrixUserId, remoteMessageId, remoteUserId } from '../../src/bridge/index.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import {
  type BridgeUnderTest,
  newTokens,
  registrationFor,
  remoteText,
  settle as settleBoth,
  startBridge,
} from './harness.ts';
import { MatrixUser } from './matrix-user.ts';
import { TestConnector } from './test-connector.ts';

describe('bridge core against the fake homeserver', () => {
  let hs: FakeHomeserver;
  let b: BridgeUnderTest;
  let conn: TestConnector;
  let alice: MatrixUser;

  const settle = () => settleBoth(hs, b.bridge);
  const portalRoom = (remote = 'room1') => hs.model.rooms.get(b.bridge.store.portalByRemote(remote)!.matrixRoomId!)!;
  const texts = (roomId: string, sender?: string) =>
    hs.model.rooms
      .get(roomId)!
      .events.filter((e) => e.type === 'm.room.message' && (!sender || e.sender === sender))
      .map((e) => String(e.content.body));

  /** A request as an existing user of the fake homeserver (token registered on first use). */
  const callAs = async (user: string, method: string, path: string, body: unknown) => {
    const token = `tok-${user}`;
    hs.model.userTokens.set(token, user);
    const r = await fetch(`${hs.url}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200, `${method} ${path}: ${await r.clone().text()}`);
    return r.json();
  };

  before(async () => {
    hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    conn = new TestConnector();
    conn.rooms.set('room1', { name: 'Sales', members: [remoteUserId('u1'), remoteUserId('u2')] });
    conn.users.set('u1', { name: 'Ursula One' });
    conn.users.set('u2', { name: 'Ulrich Two' });
    alice = new MatrixUser(hs, 'alice', 'Alice');
    b = await startBridge(hs, tokens, { connector: conn });
    reg.url = b.server.url;
    b.bridge.store.puppetSave(
      { matrixUserId: alice.userId, remoteUserId: 'u2', remoteName: 'Ulrich Two (u2)', credentials: 'x' },
      'testnet',
      Date.now(),
    );
  });
  after(async () => {
    await b.stop();
    await hs.stop();
  });

  it('creates the portal with m.bridge state, registers the ghost with its name, invites the linked user', async () => {
    await conn.host!.queueRemoteEvent(remoteText('m1', 'u1', 'hello from u1'));
    await settle();
    const room = portalRoom();
    const bridgeState = hs.model.stateContent(room, 'm.bridge', 'localhost/testnet') as {
      protocol: { id: string };
      channel: { id: string };
      bridgebot: string;
    };
    assert.equal(bridgeState.protocol.id, 'testnet');
    assert.equal(bridgeState.channel.id, 'room1');
    assert.equal(bridgeState.bridgebot, '@bridgebot:localhost');
    assert.deepEqual(hs.model.stateContent(room, 'uk.half-shot.bridge', 'localhost/testnet'), bridgeState);
    assert.equal(hs.model.powerLevel(room, '@bridgebot:localhost'), 100);
    assert.equal(hs.model.users.get('@tn_u1:localhost')?.profile.displayname, 'Ursula One');
    assert.equal(hs.model.membership(room, alice.userId), 'invite');
    assert.deepEqual(texts(room.id, '@tn_u1:localhost'), ['hello from u1']);
  });

  it('makes one Matrix message from N copies of one remote message', async () => {
    await Promise.all([1, 2, 3].map(() => conn.host!.queueRemoteEvent(remoteText('m2', 'u1', 'copy'))));
    await conn.host!.queueRemoteEvent(remoteText('m2', 'u1', 'copy'));
    await settle();
    assert.equal(texts(portalRoom().id).filter((t) => t === 'copy').length, 1);
    assert.ok(conn.host!.isKnownMessage(remoteMessageId('m2')));
  });

  it('updates a ghost profile only when it changed', async () => {
    const puts = () => hs.requestsTo(/\/profile\/.*tn_u1.*\/displayname$/, 'PUT').length;
    const before = puts();
    await conn.host!.queueRemoteEvent(remoteText('m3', 'u1', 'again'));
    await conn.host!.queueRemoteEvent({ kind: 'ghost-info', user: remoteUserId('u1'), info: { name: 'Ursula One' } });
    await settle();
    assert.equal(puts(), before, 'same name: no profile write');
    await conn.host!.queueRemoteEvent({
      kind: 'ghost-info',
      user: remoteUserId('u1'),
      info: { name: 'Ursula Renamed' },
    });
    await settle();
    assert.equal(puts(), before + 1);
    assert.equal(hs.model.users.get('@tn_u1:localhost')?.profile.displayname, 'Ursula Renamed');
  });

  it('shortens a remote name longer than Synapse accepts, so that the ghost still speaks', async () => {
    // Synapse refuses a display name over 256 code points (400): the ghost set-up, hence every message of
    // that remote user, failed permanently.
    const long = `Ürsula ${'x'.repeat(300)}`;
    await conn.host!.queueRemoteEvent({ kind: 'ghost-info', user: remoteUserId('u1'), info: { name: long } });
    await conn.host!.queueRemoteEvent(remoteText('m-long', 'u1', 'still here'));
    await settle();
    const name = String(hs.model.users.get('@tn_u1:localhost')?.profile.displayname);
    assert.equal([...name].length, 256);
    assert.ok(name.startsWith('Ürsula xxx') && name.endsWith('…'));
    assert.equal(texts(portalRoom().id).at(-1), 'still here');
    const puts = hs.requestsTo(/\/profile\/.*tn_u1.*\/displayname$/, 'PUT').length;
    await conn.host!.queueRemoteEvent({ kind: 'ghost-info', user: remoteUserId('u1'), info: { name: long } });
    await settle();
    assert.equal(hs.requestsTo(/\/profile\/.*tn_u1.*\/displayname$/, 'PUT').length, puts, 'unchanged: no write');
    await conn.host!.queueRemoteEvent({ kind: 'ghost-info', user: remoteUserId('u1'), info: { name: 'Ursula One' } });
    await settle();
  });

  it('keeps messages while the homeserver fails and delivers them later, in order, none duplicated', async () => {
    hs.fail({ path: /\/send\/m\.room\.message\//, status: 502, times: 25 });
    hs.fail({
      path: /\/send\/m\.room\.message\//,
      status: 429,
      times: 2,
      body: { errcode: 'M_LIMIT_EXCEEDED', error: 'slow', retry_after_ms: 5 },
    });
    for (let i = 0; i < 6; i++)
      await conn.host!.queueRemoteEvent(remoteText(`down${i}`, i % 2 ? 'u1' : 'u2', `queued ${i}`));
    await settle();
    const got = texts(portalRoom().id).filter((t) => t.startsWith('queued'));
    assert.deepEqual(
      got,
      [0, 1, 2, 3, 4, 5].map((i) => `queued ${i}`),
    );
    assert.equal(b.bridge.store.outboxDepth().remote, 0);
    const metrics = await b.metrics.metrics();
    assert.match(metrics, /mcb_outbox_depth\{lane="remote"\} 0/);
    assert.match(metrics, /mcb_outbox_delivery_seconds_count\{lane="remote"\} \d+/);
  });

  it("bridges a linked user's Matrix message through their puppet, and never bridges ghost or bot events back", async () => {
    const room = portalRoom();
    await alice.join(room.id);
    const sentBefore = conn.sent.length;
    await alice.say(room.id, 'hi from matrix');
    await settle();
    const mine = conn.sent.slice(sentBefore);
    assert.equal(mine.length, 1, `sent: ${JSON.stringify(mine.map((s) => s.msg.body.text))}`);
    assert.equal(mine[0]!.as, 'u2');
    assert.equal(mine[0]!.msg.body.text, 'hi from matrix');
    assert.equal(mine[0]!.msg.relayedFor, undefined);
    // Everything the ghosts said (pushed back to us by the homeserver) stayed on Matrix.
    assert.ok(!conn.sent.some((s) => s.msg.body.text.startsWith('queued') || s.msg.body.text === 'hello from u1'));
    const mapped = b.bridge.store.remoteForEvent(hs.model.rooms.get(room.id)!.events.at(-1)!.event_id);
    assert.ok(mapped, 'message map written');
  });

  it('relays an unlinked user with relay permission, and tells a user without permission once', async () => {
    const room = portalRoom();
    const carol = new MatrixUser(hs, 'carol', 'Carol');
    await alice.call('POST', `/rooms/${encodeURIComponent(room.id)}/invite`, { user_id: carol.userId });
    await carol.join(room.id);
    const before = conn.sent.length;
    await carol.say(room.id, 'relayed words');
    await settle();
    const s = conn.sent.slice(before);
    assert.equal(s.length, 1);
    assert.equal(s[0]!.as, 'relay');
    assert.deepEqual(s[0]!.msg.relayedFor, { userId: carol.userId as MatrixUserId, displayName: 'Carol' });

    // A user from a server without any permission entry: not relayed, told once how to log in.
    const eve = '@eve:elsewhere.example';
    hs.model.users.set(eve, { userId: eve, profile: { displayname: 'Eve' } });
    hs.model.userTokens.set('eve-token', eve);
    const call = (path: string, body: unknown, method = 'POST') =>
      fetch(`${hs.url}/_matrix/client/v3${path}`, {
        method,
        headers: { authorization: 'Bearer eve-token' },
        body: JSON.stringify(body),
      });
    await alice.call('POST', `/rooms/${encodeURIComponent(room.id)}/invite`, { user_id: eve });
    assert.equal((await call(`/rooms/${encodeURIComponent(room.id)}/join`, {})).status, 200);
    const sentBefore = conn.sent.length;
    const botBefore = texts(room.id, '@bridgebot:localhost').length;
    for (const n of [1, 2])
      await call(
        `/rooms/${encodeURIComponent(room.id)}/send/m.room.message/e${n}`,
        { msgtype: 'm.text', body: `eve ${n}` },
        'PUT',
      );
    await settle();
    assert.equal(conn.sent.length, sentBefore);
    const notices = texts(room.id, '@bridgebot:localhost').slice(botBefore);
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /not bridged.*login/);
  });

  it('retries a remote outage from the outbox and sends once', async () => {
    const room = portalRoom();
    conn.failNext = 3;
    const before = conn.sent.length;
    await alice.say(room.id, 'after outage');
    await settle();
    assert.equal(conn.sent.slice(before).filter((s) => s.msg.body.text === 'after outage').length, 1);
  });

  it('bridges an edit only when it replaces a message of the same sender (spec: validity of replacements)', async () => {
    const room = portalRoom();
    const carol = '@carol:localhost';
    const edit = (target: string, text: string) => ({
      msgtype: 'm.text',
      'm.new_content': { msgtype: 'm.text', body: text },
      'm.relates_to': { rel_type: 'm.replace', event_id: target },
    });
    const original = await alice.say(room.id, 'meet at 10');
    await settle();
    // Carol (relayed) "edits" Alice's message; then a ghost's; then Alice edits without m.new_content.
    const carolUser = { call: (m: string, p: string, body: unknown) => callAs(carol, m, p, body) };
    await carolUser.call('PUT', `/rooms/${encodeURIComponent(room.id)}/send/m.room.message/c-edit1`, {
      body: '* meet at 11',
      ...edit(original, 'meet at 11'),
    });
    const ghostMsg = room.events.find((e) => e.sender === '@tn_u1:localhost' && e.type === 'm.room.message')!;
    await alice.say(room.id, '* hijacked', edit(ghostMsg.event_id, 'hijacked'));
    await alice.say(room.id, '* no new content', { 'm.relates_to': { rel_type: 'm.replace', event_id: original } });
    await settle();
    assert.equal(conn.edits.length, 0, 'no invalid edit was bridged');
    await alice.say(room.id, '* meet at 10:30', edit(original, 'meet at 10:30'));
    await settle();
    assert.equal(conn.edits.length, 1);
    assert.equal(conn.edits[0]!.as, 'u2');
    assert.equal(conn.edits[0]!.msg.body.text, 'meet at 10:30');
    assert.equal(conn.edits[0]!.target, b.bridge.store.remoteForEvent(original)!.remoteId);
  });

  it('gives the connector the replied-to text for its quote (reply to a ghost; reply to an unbridged event)', async () => {
    const room = portalRoom();
    const ghostMsg = room.events.find((e) => e.sender === '@tn_u1:localhost' && e.type === 'm.room.message')!;
    const before = conn.sent.length;
    await alice.say(room.id, 'yes, tomorrow', {
      'm.relates_to': { 'm.in_reply_to': { event_id: ghostMsg.event_id } },
    });
    // A reply to an event the bridge never mapped (a notice of the bot): no reply target, no quote.
    const notice = room.events.find((e) => e.sender === '@bridgebot:localhost' && e.type === 'm.room.message');
    if (notice)
      await alice.say(room.id, 'noted', { 'm.relates_to': { 'm.in_reply_to': { event_id: notice.event_id } } });
    await settle();
    const s = conn.sent.slice(before);
    const reply = s.find((x) => x.msg.body.text === 'yes, tomorrow')!;
    assert.equal(reply.msg.body.replyTo, b.bridge.store.remoteForEvent(ghostMsg.event_id)!.remoteId);
    assert.equal(reply.msg.replyQuote, ghostMsg.content.body);
    const other = s.find((x) => x.msg.body.text === 'noted');
    if (notice) {
      assert.equal(other!.msg.body.replyTo, undefined);
      assert.equal(other!.msg.replyQuote, undefined);
    }
  });

  it('keeps the caption of a media message (v1.10: `body` is the caption when `filename` differs)', async () => {
    const room = portalRoom();
    const before = conn.sent.length;
    await alice.say(room.id, 'the signed invoice', {
      msgtype: 'm.file',
      filename: 'invoice.pdf',
      url: 'mxc://localhost/AbC',
      info: { mimetype: 'application/pdf', size: 1234 },
    });
    await alice.say(room.id, 'photo.png', { msgtype: 'm.image', url: 'mxc://localhost/DeF' });
    await settle();
    const [captioned, plain] = conn.sent.slice(before);
    assert.equal(captioned!.msg.body.text, 'the signed invoice');
    assert.equal(captioned!.msg.body.media?.name, 'invoice.pdf');
    assert.equal(captioned!.msg.body.media?.mimeType, 'application/pdf');
    assert.equal(plain!.msg.body.text, 'photo.png', 'no filename: body is the file name');
    assert.equal(plain!.msg.body.media?.name, 'photo.png');
  });
});

describe('portal creation on a homeserver whose default room version is 12', () => {
  it('creates the portal without listing the bot (the creator) in the power levels, and the bot stays admin', async () => {
    // Spec v1.19, POST /createRoom: "In room versions 12 and later, the room creator is given infinite power
    // level and cannot be specified in the `users` field of `m.room.power_levels`" (MSC4289).
    const hs = await new FakeHomeserver({ defaultRoomVersion: '12' }).start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    const conn = new TestConnector();
    conn.rooms.set('room1', { name: 'Sales', members: [remoteUserId('u1')] });
    conn.users.set('u1', { name: 'Ursula One' });
    const b = await startBridge(hs, tokens, { connector: conn });
    reg.url = b.server.url;
    try {
      await conn.host!.queueRemoteEvent(remoteText('v12', 'u1', 'hello v12'));
      await settleBoth(hs, b.bridge);
      const created = hs.requestsTo(/\/createRoom$/, 'POST');
      assert.equal(created.length, 1);
      assert.equal(created[0]!.status, 200, JSON.stringify(created[0]!.body));
      const room = hs.model.rooms.get(b.bridge.store.portalByRemote('room1')!.matrixRoomId!)!;
      assert.equal(room.version, '12');
      const users = (hs.model.stateContent(room, 'm.room.power_levels')?.users ?? {}) as Record<string, number>;
      assert.ok(!('@bridgebot:localhost' in users), 'the creator is not in power_levels.users');
      assert.equal(hs.model.powerLevel(room, '@bridgebot:localhost'), Infinity);
      const said = room.events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
      assert.deepEqual(said, ['hello v12']);
    } finally {
      await b.stop();
      await hs.stop();
    }
  });
});
