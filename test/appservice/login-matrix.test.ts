/**
 * Double puppeting with the user's own access token (the bot's `login-matrix`, as in mautrix bridges): the
 * token is checked with whoami, kept encrypted, used for the linked user's remote messages (before the
 * double-puppeting registration, before the ghost), forgotten when the homeserver refuses it, and never logged out.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { remoteUserId } from '../../src/bridge/index.ts';
import { decryptSecret, type EncryptionKey, parseEncryptionKey } from '../../src/db/index.ts';
import { buildDoublePuppetRegistration } from '../../src/matrix/index.ts';
import { FakeHomeserver, type RecordedRequest } from '../../src/testing/fake-homeserver/index.ts';
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

const BOT = '@bridgebot:localhost';
const DP_KEY = 'fi.mau.double_puppet_source';

interface Setup {
  hs: FakeHomeserver;
  b: BridgeUnderTest;
  conn: TestConnector;
  alice: MatrixUser;
  dm: string;
  /** `[bridge] encryption_key`, when set. */
  key: EncryptionKey | undefined;
  settle(): Promise<void>;
  /** Sends a command in `room`; returns the bot's one reply and the command's event id. */
  command(who: MatrixUser, room: string, text: string): Promise<{ reply: string; eventId: string }>;
  /** The portal's messages, in order. */
  messages(): { sender: string; content: Record<string, unknown>; event_id: string; room_id: string }[];
}

async function setup(opts: { key: boolean; doublePuppetRegistration: boolean }): Promise<Setup> {
  const hs = await new FakeHomeserver().start();
  const tokens = newTokens();
  const reg = registrationFor(tokens, null);
  hs.registerAppservice(reg);
  let doublePuppetToken: string | undefined;
  if (opts.doublePuppetRegistration) {
    const dp = buildDoublePuppetRegistration({ id: 'testbridge', domain: 'localhost' });
    hs.registerAppservice({ ...dp, url: null });
    doublePuppetToken = dp.as_token;
  }
  const conn = new TestConnector();
  conn.rooms.set('room1', { name: 'Sales', members: [remoteUserId('u1'), remoteUserId('u2')] });
  conn.users.set('u1', { name: 'Ursula One' });
  conn.users.set('u2', { name: 'Ulrich Two' });
  const alice = new MatrixUser(hs, 'alice', 'Alice');
  const key = opts.key ? parseEncryptionKey(randomBytes(32).toString('base64')) : undefined;
  const b = await startBridge(hs, tokens, {
    connector: conn,
    doublePuppetToken,
    encryptionKey: key,
    options: { permissions: { localhost: 'user', 'other.example': 'user' } },
  });
  reg.url = b.server.url;
  // Alice linked her remote account u2 (bot `login`).
  b.bridge.store.puppetSave(
    { matrixUserId: alice.userId, remoteUserId: 'u2', remoteName: 'Ulrich Two (u2)', credentials: 'x' },
    'testnet',
    Date.now(),
  );
  const settle = () => settleBoth(hs, b.bridge);
  await settle();
  const dm = await alice.createDm(BOT);
  await settle();
  const botSaid = (roomId: string) =>
    hs.model.rooms
      .get(roomId)!
      .events.filter((e) => e.type === 'm.room.message' && e.sender === BOT)
      .map((e) => String(e.content.body));
  return {
    hs,
    b,
    conn,
    alice,
    dm,
    key,
    settle,
    async command(who, room, text) {
      const before = botSaid(room).length;
      const eventId = await who.say(room, text);
      await settle();
      const replies = botSaid(room).slice(before);
      assert.equal(replies.length, 1, `"${text}" got ${replies.length} replies: ${JSON.stringify(replies)}`);
      return { reply: replies[0]!, eventId };
    },
    messages() {
      const room = hs.model.rooms.get(b.bridge.store.portalByRemote('room1')!.matrixRoomId!)!;
      return room.events.filter((e) => e.type === 'm.room.message');
    },
  };
}

/** Every value of every table of the bridge's database, as one string. */
function wholeDatabase(b: BridgeUnderTest): string {
  const sqlite = b.database.sqlite;
  const tables = sqlite.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
  return tables.map((t) => JSON.stringify(sqlite.prepare(`select * from "${t.name}"`).all())).join('\n');
}

function whoamiWith(s: Setup, token: string): RecordedRequest[] {
  return s.hs.requestsTo(/\/account\/whoami$/, 'GET').filter((r) => r.accessToken === token);
}

describe('login-matrix: double puppeting with the user’s own access token', () => {
  let s: Setup;
  let bob: MatrixUser;
  const store = () => s.b.bridge.store;

  before(async () => {
    s = await setup({ key: true, doublePuppetRegistration: false });
    bob = new MatrixUser(s.hs, 'bob', 'Bob');
  });
  after(async () => {
    await s.b.stop();
    await s.hs.stop();
  });

  it('help lists login-matrix and logout-matrix', async () => {
    const { reply } = await s.command(s.alice, s.dm, 'help');
    assert.match(reply, /• login-matrix: login-matrix <access token>/);
    assert.match(reply, /• logout-matrix: /);
  });

  it('without a token, answers the usage and stores nothing', async () => {
    const { reply } = await s.command(s.alice, s.dm, 'login-matrix');
    assert.match(reply, /^Usage: login-matrix <access token>/);
    assert.equal(store().matrixToken(s.alice.userId), undefined);
  });

  it('refuses a token of another user: nothing stored, the message emptied and the user asked to delete it', async () => {
    const { reply, eventId } = await s.command(s.alice, s.dm, `login-matrix ${bob.token}`);
    assert.match(reply, /^Not linked: this access token belongs to @bob:localhost, not to you \(@alice:localhost\)/);
    assert.match(reply, /Nothing was stored\./);
    // In a DM the user created the bot has no power to redact: it asks the user to delete the message.
    assert.match(reply, /please delete it yourself/);
    assert.equal(store().matrixToken(s.alice.userId), undefined);
    const [check] = whoamiWith(s, bob.token);
    assert.ok(check, 'whoami was asked with the given token');
    assert.equal(check.query.user_id, undefined, 'no identity assertion');
    assert.equal(check.status, 200);
    assert.ok(!wholeDatabase(s.b).includes(bob.token), 'the token is nowhere in the database (outbox emptied)');
    const row = s.b.database.sqlite.prepare('select payload from outbox where dedupe_key = ?').get(`m:${eventId}`) as {
      payload: string;
    };
    assert.deepEqual(JSON.parse(row.payload).content, {});
  });

  it('refuses a token the homeserver does not know (M_UNKNOWN_TOKEN)', async () => {
    const { reply } = await s.command(s.alice, s.dm, 'login-matrix syt_not_a_real_token_0123');
    assert.match(reply, /^Not linked: the homeserver does not accept this access token \(M_UNKNOWN_TOKEN\)/);
    assert.equal(whoamiWith(s, 'syt_not_a_real_token_0123')[0]?.status, 401);
    assert.equal(store().matrixToken(s.alice.userId), undefined);
  });

  it('stores the user’s own token encrypted, and redacts the message when the bot may', async () => {
    // Alice gives the bot the power to redact in her DM.
    const pl = s.hs.model.stateContent(s.hs.model.rooms.get(s.dm)!, 'm.room.power_levels')!;
    await s.alice.call('PUT', `/rooms/${encodeURIComponent(s.dm)}/state/m.room.power_levels/`, {
      ...pl,
      users: { ...(pl.users as object), [BOT]: 50 },
    });
    await s.settle();
    const { reply, eventId } = await s.command(s.alice, s.dm, `login-matrix ${s.alice.token}`);
    assert.match(reply, /^Double puppeting is on: your TestNet messages now appear as your own Matrix account/);
    assert.doesNotMatch(reply, /delete it yourself/);
    const message = s.hs.model.rooms.get(s.dm)!.events.find((e) => e.event_id === eventId)!;
    assert.deepEqual(message.content, {}, 'redacted on the homeserver');
    const stored = store().matrixToken(s.alice.userId)!;
    assert.match(stored, /^v1\./);
    assert.equal(decryptSecret(s.key!, stored, `matrix-token:${s.alice.userId}`), s.alice.token);
    // Bound to its purpose too: it does not pass for a secret of another kind of the same user.
    assert.throws(() => decryptSecret(s.key!, stored, s.alice.userId), /does not decrypt/);
    assert.ok(!wholeDatabase(s.b).includes(s.alice.token), 'the token is nowhere in the database in clear');
    assert.equal(whoamiWith(s, s.alice.token)[0]?.query.user_id, undefined);
  });

  it('sends the linked user’s remote message with their token, and never bridges the echo back', async () => {
    await s.conn.host!.queueRemoteEvent(remoteText('m1', 'u1', 'question from a customer'));
    await s.conn.host!.queueRemoteEvent(remoteText('m2', 'u2', 'answer Alice typed in her remote app'));
    await s.settle();
    const [first, second] = s.messages();
    assert.equal(first!.sender, '@tn_u1:localhost');
    assert.equal(second!.sender, s.alice.userId, 'sent as Alice herself');
    assert.equal(second!.content[DP_KEY], 'matrix-crm-bridge');
    const sends = s.hs.requestsTo(/\/send\/m\.room\.message\//, 'PUT').filter((r) => r.actingAs === s.alice.userId);
    const send = sends.find((r) => (r.body as { body?: string }).body === 'answer Alice typed in her remote app')!;
    assert.equal(send.accessToken, s.alice.token, 'with her own access token');
    assert.equal(send.query.user_id, undefined, 'no identity assertion');
    assert.equal(send.appservice, undefined);
    const join = s.hs.requestsTo(/\/join\//, 'POST').find((r) => r.accessToken === s.alice.token);
    assert.equal(join?.status, 200, 'joined the portal with her token');
    await s.settle();
    assert.equal(s.conn.sent.length, 0, JSON.stringify(s.conn.sent));
    assert.ok(
      s.hs.pusher.delivered.some(
        (t) => t.appservice === 'testbridge' && t.events.some((e) => e.event_id === second!.event_id),
      ),
      'the homeserver pushed the echo to the bridge',
    );
    assert.equal(s.b.bridge.store.outboxHas(`m:${second!.event_id}`), false, 'the echo was dropped on arrival');
    // What she writes in Matrix herself still goes to the remote network.
    await s.alice.say(second!.room_id, 'typed in Element');
    await s.settle();
    assert.deepEqual(
      s.conn.sent.map((x) => x.msg.body.text),
      ['typed in Element'],
    );
  });

  it('an expired token is forgotten, the user told, and the message sent as the ghost', async () => {
    s.hs.model.userTokens.delete(s.alice.token); // the session was logged out on the homeserver
    const notices = s.hs.model.rooms.get(s.dm)!.events.length;
    await s.conn.host!.queueRemoteEvent(remoteText('m3', 'u2', 'written after the token expired'));
    await s.settle();
    const last = s.messages().at(-1)!;
    assert.equal(last.content.body, 'written after the token expired', 'the message is not lost');
    assert.equal(last.sender, '@tn_u2:localhost');
    assert.equal(last.content[DP_KEY], undefined);
    assert.equal(store().matrixToken(s.alice.userId), undefined);
    const told = s.hs.model.rooms
      .get(s.dm)!
      .events.slice(notices)
      .filter((e) => e.sender === BOT && e.type === 'm.room.message')
      .map((e) => String(e.content.body));
    assert.equal(told.length, 1);
    assert.match(told[0]!, /double puppeting expired or was logged out, so I forgot it/);
    assert.match(told[0]!, /appear as your TestNet ghost until you send "login-matrix <access token>" again/);
    // Later messages go to the ghost without asking the homeserver about the token again.
    const refused = s.hs.requests.filter((r) => r.accessToken === s.alice.token && r.status === 401).length;
    await s.conn.host!.queueRemoteEvent(remoteText('m4', 'u2', 'and one more'));
    await s.settle();
    assert.equal(s.messages().at(-1)!.sender, '@tn_u2:localhost');
    assert.equal(s.hs.requests.filter((r) => r.accessToken === s.alice.token && r.status === 401).length, refused);
    s.hs.model.userTokens.set(s.alice.token, s.alice.userId); // the user logs in again
  });

  it('logout-matrix forgets the token without logging the session out', async () => {
    assert.match((await s.command(s.alice, s.dm, `login-matrix ${s.alice.token}`)).reply, /^Double puppeting is on/);
    const { reply } = await s.command(s.alice, s.dm, 'logout-matrix');
    assert.match(reply, /^I forgot your Matrix access token: your TestNet messages now appear as your TestNet ghost/);
    assert.match(reply, /I did not log out that Matrix session/);
    assert.equal(store().matrixToken(s.alice.userId), undefined);
    assert.equal(s.hs.requestsTo(/\/logout/).length, 0, 'no /logout call');
    assert.equal((await s.alice.call('GET', '/account/whoami')).user_id, s.alice.userId, 'her session still works');
    assert.match((await s.command(s.alice, s.dm, 'logout-matrix')).reply, /nothing to forget/);
    await s.conn.host!.queueRemoteEvent(remoteText('m5', 'u2', 'after logout-matrix'));
    await s.settle();
    assert.equal(s.messages().at(-1)!.sender, '@tn_u2:localhost');
  });

  it('a stored token that no longer decrypts (key changed) is forgotten the same way', async () => {
    // What a row encrypted with another key looks like to this bridge.
    store().matrixTokenSave(s.alice.userId, 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA', Date.now());
    await s.conn.host!.queueRemoteEvent(remoteText('m6', 'u2', 'after a key change'));
    await s.settle();
    const last = s.messages().at(-1)!;
    assert.equal(last.content.body, 'after a key change');
    assert.equal(last.sender, '@tn_u2:localhost');
    assert.equal(store().matrixToken(s.alice.userId), undefined);
    const notice = s.hs.model.rooms
      .get(s.dm)!
      .events.filter((e) => e.sender === BOT && e.type === 'm.room.message')
      .at(-1)!;
    assert.match(String(notice.content.body), /can no longer be read \(the bridge’s key changed\), so I forgot it/);
  });

  it('accepts only users of its own homeserver', async () => {
    const carol = '@carol:other.example';
    s.hs.model.users.set(carol, { userId: carol, profile: {} });
    s.hs.model.userTokens.set('carol-token-123', carol);
    const res = await fetch(`${s.hs.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: 'Bearer carol-token-123' },
      body: JSON.stringify({ invite: [BOT], is_direct: true }),
    });
    const { room_id: carolDm } = (await res.json()) as { room_id: string };
    await s.settle();
    const before = whoamiWith(s, 'carol-token-123').length;
    const said = () =>
      s.hs.model.rooms
        .get(carolDm)!
        .events.filter((e) => e.sender === BOT && e.type === 'm.room.message')
        .map((e) => String(e.content.body));
    const n = said().length;
    await fetch(`${s.hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(carolDm)}/send/m.room.message/c1`, {
      method: 'PUT',
      headers: { authorization: 'Bearer carol-token-123' },
      body: JSON.stringify({ msgtype: 'm.text', body: 'login-matrix carol-token-123' }),
    });
    await s.settle();
    assert.match(said()[n]!, /^Not linked: only users of localhost can use login-matrix.*Nothing was stored\./);
    assert.equal(whoamiWith(s, 'carol-token-123').length, before, 'the token was not even tried');
    assert.equal(store().matrixToken(carol), undefined);
  });
});

describe('login-matrix before the double-puppeting registration', () => {
  let s: Setup;
  before(async () => {
    s = await setup({ key: true, doublePuppetRegistration: true });
  });
  after(async () => {
    await s.b.stop();
    await s.hs.stop();
  });

  it('uses the user’s token first, then the registration once the token is refused', async () => {
    assert.match((await s.command(s.alice, s.dm, `login-matrix ${s.alice.token}`)).reply, /^Double puppeting is on/);
    await s.conn.host!.queueRemoteEvent(remoteText('m1', 'u2', 'with the token'));
    await s.settle();
    const bySender = (text: string) =>
      s.hs
        .requestsTo(/\/send\/m\.room\.message\//, 'PUT')
        .find((r) => (r.body as { body?: string }).body === text && r.status === 200)!;
    assert.equal(bySender('with the token').accessToken, s.alice.token);
    s.hs.model.userTokens.delete(s.alice.token);
    await s.conn.host!.queueRemoteEvent(remoteText('m2', 'u2', 'through the registration'));
    await s.settle();
    const viaRegistration = bySender('through the registration');
    assert.equal(viaRegistration.appservice, 'testbridge-double-puppet');
    assert.equal(viaRegistration.query.user_id, s.alice.userId);
    const [a, b] = s.messages();
    assert.equal(a!.sender, s.alice.userId);
    assert.equal(b!.sender, s.alice.userId);
    assert.equal(b!.content[DP_KEY], 'matrix-crm-bridge');
    const told = s.hs.model.rooms
      .get(s.dm)!
      .events.filter((e) => e.sender === BOT && /forgot it/.test(String(e.content.body)));
    assert.match(String(told[0]?.content.body), /appear as your Matrix account, through the bridge’s double-puppeting/);
    await s.settle();
    assert.equal(s.conn.sent.length, 0, 'neither echo went back');
  });
});

describe('login-matrix without an encryption key', () => {
  it('is off, says why, and still removes the token from the outbox', async () => {
    const s = await setup({ key: false, doublePuppetRegistration: false });
    try {
      const { reply } = await s.command(s.alice, s.dm, `login-matrix ${s.alice.token}`);
      assert.match(reply, /^Not linked: login-matrix is off because .*MCB_BRIDGE_ENCRYPTION_KEY/);
      assert.equal(whoamiWith(s, s.alice.token).length, 0);
      assert.ok(!wholeDatabase(s.b).includes(s.alice.token));
    } finally {
      await s.b.stop();
      await s.hs.stop();
    }
  });
});
