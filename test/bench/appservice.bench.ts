/**
 * `npm run bench -- appservice`: transactions of 50 events pushed into the bridge over loopback, one at a time
 * as a homeserver does, with durability on (file SQLite in WAL mode; each transaction committed before the
 * 200). Reports events/s, p50/p99 from PUT to acknowledgement, the time until the outbox worker handled every
 * event, and peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { newTokens, registrationFor, startBridge } from '../appservice/harness.ts';
import { TestConnector } from '../appservice/test-connector.ts';

const TXNS = 400;
const PER_TXN = 50;
const ROOMS = 20;

const dir = mkdtempSync(join(tmpdir(), 'mcb-bench-as-'));
const hs = await new FakeHomeserver().start();
const tokens = newTokens();
hs.registerAppservice(registrationFor(tokens, null));
const b = await startBridge(hs, tokens, { connector: new TestConnector(), dbUrl: `sqlite:${join(dir, 'bridge.db')}` });
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

let seq = 0;
const txnBody = () =>
  JSON.stringify({
    events: Array.from({ length: PER_TXN }, () => {
      const n = seq++;
      return {
        type: 'm.room.message',
        room_id: `!room${n % ROOMS}:localhost`,
        event_id: `$bench${n}`,
        sender: `@user${n % 37}:localhost`,
        origin_server_ts: 1_767_225_600_000 + n,
        content: { msgtype: 'm.text', body: `benchmark message number ${n} with a little text` },
        unsigned: { age: 5 },
      };
    }),
  });
const put = async (txn: number, body: string) => {
  const r = await fetch(`${b.server.url}/_matrix/app/v1/transactions/${txn}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${tokens.hs_token}`, 'content-type': 'application/json' },
    body,
  });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`txn ${txn}: ${r.status}`);
};

// Warm-up (JIT, connection pool), not measured.
for (let i = 0; i < 20; i++) await put(1_000_000 + i, txnBody());
await b.bridge.idle();

const bodies = Array.from({ length: TXNS }, txnBody);
const latencies: number[] = [];
const t0 = performance.now();
for (let i = 0; i < TXNS; i++) {
  const s = performance.now();
  await put(i, bodies[i]!);
  latencies.push(performance.now() - s);
}
const acked = performance.now() - t0;
await b.bridge.idle();
const drained = performance.now() - t0;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

latencies.sort((x, y) => x - y);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
const events = TXNS * PER_TXN;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(
  [
    `transactions: ${TXNS} × ${PER_TXN} events over ${ROOMS} rooms (file SQLite, WAL, committed before each ack)`,
    `ingest: ${fmt(events / (acked / 1000))} events/s (${fmt(TXNS / (acked / 1000))} txns/s)`,
    `PUT→ack: p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms`,
    `ingest + every event handled by the outbox worker: ${fmt(events / (drained / 1000))} events/s`,
    `peak RSS: ${(peakRss / 1048576).toFixed(0)} MiB`,
    '',
  ].join('\n'),
);
await b.stop();
await hs.stop();
rmSync(dir, { recursive: true, force: true });
