import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { type BridgeUnderTest, newTokens, registrationFor, settle as settleBoth, startBridge } from './harness.ts';
import { MatrixUser } from './matrix-user.ts';
import { TestConnector } from './test-connector.ts';

const BOT = '@bridgebot:localhost';

describe('bridge bot', () => {
  let hs: FakeHomeserver;
  let b: BridgeUnderTest;
  let conn: TestConnector;
  let alice: MatrixUser;
  let admin: MatrixUser;
  let dm: string;
  let adminDm: string;

  const settle = () => settleBoth(hs, b.bridge);
  const botSaid = (roomId: string) =>
    hs.model.rooms
      .get(roomId)!
      .events.filter((e) => e.type === 'm.room.message' && e.sender === BOT)
      .map((e) => String(e.content.body));
  /** Sends a command and returns the bot's replies to it (must be exactly one). */
  const command = async (who: MatrixUser, room: string, text: string): Promise<string> => {
    const before = botSaid(room).length;
    await who.say(room, text);
    await settle();
    const replies = botSaid(room).slice(before);
    assert.equal(replies.length, 1, `"${text}" got ${replies.length} replies: ${JSON.stringify(replies)}`);
    return replies[0]!;
  };

  before(async () => {
    hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    conn = new TestConnector();
    conn.accounts.set('ada', { password: 's3cret', name: 'Ada Lovelace' });
    alice = new MatrixUser(hs, 'alice', 'Alice');
    admin = new MatrixUser(hs, 'admin', 'Admin');
    b = await startBridge(hs, tokens, { connector: conn });
    reg.url = b.server.url;
    await settle();
    dm = await alice.createDm(BOT);
    adminDm = await admin.createDm(BOT);
    await settle();
  });
  after(async () => {
    await b.stop();
    await hs.stop();
  });

  it('is registered with a display name and joins DMs of permitted users', () => {
    assert.equal(hs.model.users.get(BOT)?.profile.displayname, 'TestNet bridge bot');
    assert.equal(hs.model.membership(hs.model.rooms.get(dm)!, BOT), 'join');
    assert.equal(botSaid(dm).length, 1, 'one welcome message');
  });

  it('rejects invites from users without permission', async () => {
    const eve = '@eve:elsewhere.example';
    hs.model.users.set(eve, { userId: eve, profile: {} });
    hs.model.userTokens.set('eve-token', eve);
    const r = await fetch(`${hs.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: 'Bearer eve-token' },
      body: JSON.stringify({ invite: [BOT], is_direct: true }),
    });
    const { room_id } = (await r.json()) as { room_id: string };
    await settle();
    assert.equal(hs.model.membership(hs.model.rooms.get(room_id)!, BOT), 'leave');
  });

  it('help lists login, logout, list, ping and status', async () => {
    const reply = await command(alice, dm, 'help');
    for (const c of ['login', 'logout', 'list', 'ping', 'status']) assert.match(reply, new RegExp(`• ${c}:`));
    assert.match(reply, /status:.*\(needs admin\)/);
  });

  it('ping reports the remote network', async () => {
    assert.match(await command(alice, dm, 'ping'), /TestNet: OK: testnet reachable/);
  });

  it('status is refused to a user and answered to an admin', async () => {
    assert.match(await command(alice, dm, 'status'), /needs the admin permission level/);
    const s = await command(admin, adminDm, 'status');
    assert.match(s, /outbox: \d+ from Matrix, \d+ to Matrix pending; 0 failed/);
    assert.match(s, /last sync: never/);
    assert.match(s, /last export: never/);
  });

  it('does not take an edit of a command as a new command', async () => {
    const id = await alice.say(dm, 'ping');
    await settle();
    const before = botSaid(dm).length;
    await alice.say(dm, '* ping', {
      'm.new_content': { msgtype: 'm.text', body: 'ping' },
      'm.relates_to': { rel_type: 'm.replace', event_id: id },
    });
    await settle();
    assert.deepEqual(botSaid(dm).slice(before), []);
  });

  it('answers an unknown command helpfully', async () => {
    assert.match(await command(alice, dm, 'frobnicate'), /Unknown command "frobnicate".*help/);
  });

  it('login asks the username then the password, redacts the password and links the account', async () => {
    assert.equal(await command(alice, dm, 'login'), 'Send your TestNet username');
    assert.equal(await command(alice, dm, 'ada'), 'Send your TestNet password');
    const pwEvent = hs.model.rooms.get(dm)!.events.length;
    const done = await command(alice, dm, 's3cret');
    assert.match(done, /^Logged in as Ada Lovelace \(ada\)/);
    const pw = hs.model.rooms
      .get(dm)!
      .events.slice(pwEvent)
      .find((e) => e.sender === alice.userId && e.type === 'm.room.message');
    // In a DM created by the user the bot has no power to redact: it asks the user to delete it instead.
    if (pw && Object.keys(pw.content).length > 0) assert.match(done, /please delete it yourself/);
    assert.equal(b.bridge.store.puppet(alice.userId)?.remoteUserId, 'ada');
    assert.equal(b.bridge.matrixUserFor('ada' as never), alice.userId);
  });

  it('a wrong password fails the login with a clear reply', async () => {
    assert.equal(await command(admin, adminDm, 'login ada'), 'Send your TestNet password');
    assert.match(await command(admin, adminDm, 'wrong'), /Login failed: wrong username or password/);
  });

  it("list shows the user's bridged rooms", async () => {
    assert.equal(await command(admin, adminDm, 'list'), 'You have no bridged rooms yet.');
    conn.rooms.set('r9', { name: 'Support', members: ['ada' as never, 'zed' as never] });
    await conn.host!.queueRemoteEvent({
      kind: 'message',
      portal: { id: 'r9' as never },
      sender: { id: 'zed' as never },
      remoteId: 'x1' as never,
      at: new Date(),
      body: { kind: 'text', text: 'hi' },
    });
    await settle();
    assert.match(await command(alice, dm, 'list'), /Support/);
  });

  it('logout unlinks the account', async () => {
    assert.equal(await command(alice, dm, 'logout'), 'Logged out from Ada Lovelace (ada).');
    assert.equal(b.bridge.store.puppet(alice.userId), undefined);
    assert.equal(await command(alice, dm, 'logout'), 'You are not logged in.');
  });

  it('takes a room with other people for no management room: it says where commands go and leaves', async () => {
    // Issue §6 (management rooms are DMs, as mautrix bridges detect them: the inviter and the bot only). A
    // group room must neither replace the user's DM as management room nor answer every message as a command.
    const bob = new MatrixUser(hs, 'bob', 'Bob');
    const group = (await alice.call<{ room_id: string }>('POST', '/createRoom', { invite: [bob.userId, BOT] })).room_id;
    await settle();
    assert.equal(b.bridge.store.managementRoom(alice.userId), dm, 'the DM stays the management room');
    assert.equal(b.bridge.store.managementOwner(group), undefined);
    const said = botSaid(group);
    assert.equal(said.length, 1, JSON.stringify(said));
    assert.match(said[0]!, /direct chat/);
    assert.equal(hs.model.membership(hs.model.rooms.get(group)!, BOT), 'leave');
    await alice.say(group, 'help');
    await settle();
    assert.equal(botSaid(group).length, 1, 'no command answered in the group room');
    await b.bridge.notifyUser(alice.userId as never, 'to the DM');
    assert.equal(botSaid(dm).at(-1), 'to the DM');
  });

  it('says once that encrypted rooms are not supported', async () => {
    const before = botSaid(dm).length;
    await alice.call('PUT', `/rooms/${encodeURIComponent(dm)}/state/m.room.encryption/`, {
      algorithm: 'm.megolm.v1.aes-sha2',
    });
    await settle();
    await alice.call('PUT', `/rooms/${encodeURIComponent(dm)}/send/m.room.encrypted/enc1`, {
      algorithm: 'm.megolm.v1.aes-sha2',
      ciphertext: 'x',
    });
    await settle();
    const said = botSaid(dm).slice(before);
    assert.equal(said.length, 1);
    assert.match(said[0]!, /encrypted.*not support.*unencrypted/s);
  });
});

describe('bridge bot without a remote network', () => {
  it('help still lists every command and says no remote network is configured; ping says so too', async () => {
    const hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    const b = await startBridge(hs, tokens);
    reg.url = b.server.url;
    const user = new MatrixUser(hs, 'solo');
    const settle = () => settleBoth(hs, b.bridge);
    await settle();
    const dm = await user.createDm(BOT);
    await settle();
    const said = () =>
      hs.model.rooms
        .get(dm)!
        .events.filter((e) => e.sender === BOT && e.type === 'm.room.message')
        .map((e) => String(e.content.body));
    const n = said().length;
    await user.say(dm, 'help');
    await settle();
    await user.say(dm, 'ping');
    await settle();
    const [help, ping] = said().slice(n);
    assert.match(help!, /no remote network is configured/);
    for (const c of ['login', 'logout', 'list', 'ping', 'status']) assert.match(help!, new RegExp(`• ${c}:`));
    assert.equal(ping, 'No remote network is configured.');
    await b.stop();
    await hs.stop();
  });
});
