import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../db/index.ts';
import { RemoteApiError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { Outbox } from './outbox.ts';
import { BridgeStore, type OutboxRow } from './store.ts';

/** A store that counts its database reads of pending rows. */
function setup(handle: (row: OutboxRow) => Promise<void>) {
  const db = openDatabase('sqlite::memory:');
  const store = new BridgeStore(db);
  let reads = 0;
  const next = store.outboxNext.bind(store);
  store.outboxNext = (...a: Parameters<BridgeStore['outboxNext']>) => {
    reads++;
    return next(...a);
  };
  const outbox = new Outbox({
    store,
    log: silentLogger,
    metrics: createMetricsRegistry({ processMetrics: false }),
    now: Date.now,
    sleep: async () => {},
    handle,
  });
  const insert = (key: string, n: number) => store.outboxInsert('remote', key, `d:${key}:${n}`, String(n), Date.now())!;
  return { db, store, outbox, insert, reads: () => reads };
}

describe('outbox', () => {
  it('delivers rows handed over by this process in order, without reading them back', async () => {
    const seen: string[] = [];
    const s = setup(async (row) => {
      seen.push(`${row.queueKey}:${row.payload}`);
    });
    for (let i = 1; i <= 3; i++) s.outbox.enqueue(s.insert('a', i));
    s.outbox.enqueue(s.insert('b', 1));
    await s.outbox.idle();
    assert.deepEqual(seen, ['a:1', 'b:1', 'a:2', 'a:3']);
    assert.equal(s.reads(), 0);
    assert.deepEqual(s.store.outboxDepth(), { matrix: 0, remote: 0 }, 'all marked done');
    s.db.close();
  });

  it('reads the database after a restart and after a retry, and never delivers a row twice', async () => {
    let fail = 1;
    const seen: string[] = [];
    const s = setup(async (row) => {
      if (row.payload === '2' && fail-- > 0) throw new RemoteApiError('homeserver', 503, 'down', {});
      seen.push(row.payload);
    });
    s.insert('a', 1); // left by a previous run: only in the database
    s.outbox.resume();
    s.outbox.enqueue(s.insert('a', 2));
    s.outbox.enqueue(s.insert('a', 3));
    await s.outbox.idle();
    assert.deepEqual(seen, ['1', '2', '3'], 'in order; the retried row is delivered once');
    assert.ok(s.reads() >= 2, 'the restart and the retry read the database');
    s.db.close();
  });
});
