/**
 * Portal creation is crash-safe: when the bridge died between `createRoom` and recording the portal, the next
 * attempt adopts the room it had created (found by its `m.bridge` state) instead of creating a second one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { remoteUserId } from '../../src/bridge/index.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { type BridgeUnderTest, newTokens, registrationFor, remoteText, settle, startBridge } from './harness.ts';
import { TestConnector } from './test-connector.ts';

describe('portal creation after a crash', () => {
  let hs: FakeHomeserver;
  let b: BridgeUnderTest;
  let conn: TestConnector;

  before(async () => {
    hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    conn = new TestConnector();
    conn.rooms.set('room9', { name: 'Support', members: [remoteUserId('u1')] });
    conn.users.set('u1', { name: 'Ursula One' });
    b = await startBridge(hs, tokens, { connector: conn });
    reg.url = b.server.url;
  });
  after(async () => {
    await b.stop();
    await hs.stop();
  });

  it('adopts the room created before the crash instead of creating a second one', async () => {
    // What the crashed run left: the room exists on the homeserver (with our m.bridge), the portal row has no room.
    const orphan = hs.model.createRoom('@bridgebot:localhost');
    hs.model.append(orphan, {
      type: 'm.bridge',
      sender: '@bridgebot:localhost',
      stateKey: 'localhost/testnet',
      content: { bridgebot: '@bridgebot:localhost', protocol: { id: 'testnet' }, channel: { id: 'room9' } },
    });
    b.bridge.store.portalUpsert(
      {
        remoteRoomId: 'room9',
        network: 'testnet',
        matrixRoomId: null,
        name: 'Support',
        topic: null,
        isDirect: false,
        fixedMembers: false,
      },
      Date.now(),
    );
    const creates = () => hs.requestsTo(/\/createRoom$/, 'POST').length;
    const before = creates();
    await conn.host!.queueRemoteEvent(remoteText('after-crash', 'u1', 'hello again', 'room9'));
    await settle(hs, b.bridge);
    assert.equal(creates(), before, 'no second room');
    assert.equal(b.bridge.store.portalByRemote('room9')?.matrixRoomId, orphan.id);
    assert.ok(orphan.events.some((e) => e.type === 'm.room.message' && e.content.body === 'hello again'));
  });
});
