import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { groupCommit } from '../../src/db/index.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { type BridgeUnderTest, newTokens, registrationFor, startBridge } from './harness.ts';
import { TestConnector } from './test-connector.ts';

/** The core's hot writes share one commit per turn, and nothing is acknowledged before it is committed. */
describe('bridge core: group commit', () => {
  let hs: FakeHomeserver;
  let b: BridgeUnderTest;
  let dir: string;
  let reader: Database.Database;
  const stored = (txnId: string) =>
    reader.prepare('select count(*) as n from appservice_txns where txn_id = ?').get(txnId) as { n: number };
  const event = (i: number) => ({
    type: 'm.room.message',
    event_id: `$gc${i}`,
    room_id: '!unknown:localhost',
    sender: '@alice:localhost',
    origin_server_ts: 1_700_000_000_000 + i,
    content: { msgtype: 'm.text', body: `hello ${i}` },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcb-gc-bridge-'));
    hs = await new FakeHomeserver().start();
    const tokens = newTokens();
    const reg = registrationFor(tokens, null);
    hs.registerAppservice(reg);
    b = await startBridge(hs, tokens, { connector: new TestConnector(), dbUrl: `sqlite:${join(dir, 'b.db')}` });
    reg.url = b.server.url;
    reader = new Database(join(dir, 'b.db'), { readonly: true });
  });
  after(async () => {
    reader.close();
    await b.stop();
    await hs.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a transaction only once it is committed, and commits concurrent ones together', async () => {
    const g = groupCommit(b.database.sqlite);
    const before = g.commits;
    const acks = [1, 2, 3].map((i) => b.bridge.acceptTransaction(`t${i}`, [event(i)], []));
    // Written, but not yet visible to another connection: the homeserver has no 200 yet either.
    assert.equal(stored('t1').n, 0);
    const results = await Promise.all(acks);
    assert.deepEqual(
      results.map((r) => r.accepted),
      [1, 1, 1],
    );
    for (const t of ['t1', 't2', 't3']) assert.equal(stored(t).n, 1, `${t} committed before its ack`);
    assert.equal(g.commits - before, 1, 'three transactions, one commit');
    // A retry of the same txnId is a duplicate, acknowledged without a second record.
    assert.equal((await b.bridge.acceptTransaction('t1', [event(1)], [])).duplicate, true);
    await b.bridge.idle();
  });
});
