/**
 * A bridge process for the kill -9 test: queues `count` remote messages (again on every start, as a
 * reconnect backfill would; the outbox dedupes them) and delivers them to the homeserver at argv[2].
 * Prints `queued` and `idle` lines on stdout.
 */
import { Bridge, remoteMessageId, remoteRoomId, remoteUserId } from '../../src/bridge/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { silentLogger } from '../../src/log.ts';
import { MatrixApi } from '../../src/matrix/index.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { TestConnector } from './test-connector.ts';

const [hsUrl, asToken, hsToken, dbPath, countArg] = process.argv.slice(2);
const count = Number(countArg);
const conn = new TestConnector();
conn.rooms.set('k1', { name: 'Kill test', members: [remoteUserId('a'), remoteUserId('b')] });
const immediate = () => new Promise<void>((r) => setImmediate(r));
const bridge = new Bridge({
  database: openDatabase(`sqlite:${dbPath}`),
  api: new MatrixApi({ baseUrl: hsUrl!, asToken: asToken!, botUserId: '@bridgebot:localhost', sleep: immediate }),
  connector: conn,
  log: silentLogger,
  metrics: createMetricsRegistry({ processMetrics: false }),
  sleep: immediate,
  options: {
    domain: 'localhost',
    appserviceId: 'testbridge',
    botLocalpart: 'bridgebot',
    ghostPrefix: 'tn_',
    hsToken: hsToken!,
    permissions: {},
    relay: false,
    reactions: false,
    publicMediaUrl: '',
  },
});
await bridge.start();
for (let i = 0; i < count; i++) {
  await conn.host!.queueRemoteEvent({
    kind: 'message',
    portal: { id: remoteRoomId('k1') },
    sender: { id: remoteUserId(i % 3 === 0 ? 'b' : 'a') },
    remoteId: remoteMessageId(`k${i}`),
    at: new Date(1_767_225_600_000 + i),
    body: { kind: 'text', text: `msg ${i}` },
  });
}
process.stdout.write('queued\n');
await bridge.idle();
process.stdout.write('idle\n');
await bridge.stop();
