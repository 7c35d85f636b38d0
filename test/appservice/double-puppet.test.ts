/**
 * Double puppeting (the appservice method of mautrix bridges): a remote user linked to a Matrix account
 * speaks as that account through the second, non-exclusive registration, and those events are never
 * bridged back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { remoteUserId } from '../../src/bridge/index.ts';
import { buildDoublePuppetRegistration } from '../../src/matrix/index.ts';
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

describe('double puppeting', () => {
  let hs: FakeHomeserver;
  let b: BridgeUnderTest;
  let conn: TestConnector;
  let alice: MatrixUser;
  const settle = () => settleBoth(hs, b.bridge);
  const messages = () => {
    const room = hs.model.rooms.get(b.bridge.store.portalByRemote('room1')!.matrixRoomId!)!;
    return room.events.filter((e) => e.type === 'm.room.message');
  };

  before(async () => {
    hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    const dp = buildDoublePuppetRegistration({ id: 'testbridge', domain: 'localhost' });
    assert.deepEqual(dp.namespaces.users, [{ regex: '^@.*:localhost$', exclusive: false }]);
    assert.equal(dp.url, null);
    hs.registerAppservice({ ...dp, url: null });
    conn = new TestConnector();
    conn.rooms.set('room1', { name: 'Sales', members: [remoteUserId('u1'), remoteUserId('u2')] });
    conn.users.set('u1', { name: 'Ursula One' });
    conn.users.set('u2', { name: 'Ulrich Two' });
    alice = new MatrixUser(hs, 'alice', 'Alice');
    b = await startBridge(hs, tokens, { connector: conn, doublePuppetToken: dp.as_token });
    reg.url = b.server.url;
    // Alice linked her remote account u2 (bot `login`).
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

  it('posts a linked user’s remote message as their real Matrix account, marked as ours', async () => {
    await conn.host!.queueRemoteEvent(remoteText('m1', 'u1', 'question from a customer'));
    await conn.host!.queueRemoteEvent(remoteText('m2', 'u2', 'answer Alice typed in her remote app'));
    await settle();
    const [first, second] = messages();
    assert.equal(first.sender, '@tn_u1:localhost');
    assert.equal(second.sender, alice.userId, 'sent as Alice herself, not as the ghost @tn_u2');
    assert.equal(second.content['fi.mau.double_puppet_source'], 'matrix-crm-bridge');
    const room = hs.model.rooms.get(second.room_id)!;
    assert.equal(hs.model.membership(room, alice.userId), 'join');
  });

  it('never bridges the double-puppeted event back to the remote network', async () => {
    await settle();
    assert.equal(conn.sent.length, 0, JSON.stringify(conn.sent));
  });

  it('still bridges what Alice writes in Matrix herself', async () => {
    const room = b.bridge.store.portalByRemote('room1')!.matrixRoomId!;
    await alice.say(room, 'typed in Element');
    await settle();
    assert.deepEqual(
      conn.sent.map((s) => s.msg.body.text),
      ['typed in Element'],
    );
  });
});
