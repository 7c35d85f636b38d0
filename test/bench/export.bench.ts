/**
 * `npm run bench -- export`: 10,000 classified conversations for 3,000 customers exported into the fake
 * Twenty with a 100 operations/minute budget (client and server), in virtual time. Reports operations used
 * against the minimum possible with 60-record batches, records/s excluding waits, and peak RSS.
 */
import { configSchema } from '../../src/config/index.ts';
import { runExport } from '../../src/crm/index.ts';
import { openDatabase, tables } from '../../src/db/index.ts';
import { INTENT_LABELS } from '../../src/db/schema/classification.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { createVirtualClock, FakeTwenty } from '../../src/testing/fake-twenty/index.ts';

const CUSTOMERS = 3000;
const CONVERSATIONS = 10_000;
const BATCH = 60;
const clock = createVirtualClock();
const twenty = new FakeTwenty({ now: clock.now, rateLimit: 100, rateWindowMs: 60_000 });
const url = await twenty.start();
const db = openDatabase('sqlite::memory:');
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

// Fixed synthetic input: deterministic, no randomness.
const intents = INTENT_LABELS;
db.db.transaction((tx) => {
  for (let i = 0; i < CUSTOMERS; i++) {
    const phone = `+336${String(10000000 + i)}`;
    const wazo = i % 3 === 0;
    tx.insert(tables.customers)
      .values({
        key: wazo ? `wazo:user-${i}` : `tel:${phone}`,
        channel: wazo ? 'wazo' : 'whatsapp',
        phone,
        name: `Customer ${i}${wazo ? '' : ' (WA)'}`,
        email: wazo ? `customer${i}@example.com` : null,
        updatedAt: 0,
      })
      .run();
  }
  const t0 = Date.UTC(2026, 9, 1);
  for (let n = 0; n < CONVERSATIONS; n++) {
    const i = n % CUSTOMERS;
    const wazo = i % 3 === 0;
    const roomId = `!room${i}:example.org`;
    const startedAt = t0 + n * 600_000;
    const id = `${roomId}#${startedAt}`;
    tx.insert(tables.conversations)
      .values({
        id,
        roomId,
        channel: wazo ? 'wazo' : 'whatsapp',
        customerKey: wazo ? `wazo:user-${i}` : `tel:+336${String(10000000 + i)}`,
        startedAt,
        lastMessageAt: startedAt + 900_000,
        messageCount: 6,
        customerMessageCount: 3,
        agentMessageCount: 3,
        firstResponseSeconds: 90,
        resolutionSeconds: 800,
        status: n % 4 === 0 ? 'WAITING_ON_CUSTOMER' : 'RESOLVED',
        agents: '["@agent:example.org"]',
        updatedAt: 0,
      })
      .run();
    tx.insert(tables.historyEvents)
      .values({
        eventId: `$e${n}`,
        roomId,
        sender: '@c:example.org',
        senderRole: 'customer',
        type: 'm.room.message',
        body: `Message ${n} about my order`,
        ts: startedAt,
        conversationId: id,
      })
      .run();
    const negative = n % 7 === 0;
    const intent = intents[n % intents.length];
    tx.insert(tables.conversationClassifications)
      .values({
        conversationId: id,
        modelVersion: 'bench',
        conversationRevision: 1,
        sentimentLabel: negative ? 'negative' : 'neutral',
        sentimentScore: negative ? -0.6 : 0.1,
        intentLabel: intent,
        intentConfidence: 0.8,
        intents: JSON.stringify([intent]),
        keywords: '["order"]',
        language: 'en',
        classifiedAt: 0,
      })
      .run();
  }
});

const config = {
  ...configSchema.parse({
    database: { url: 'sqlite::memory:' },
    twenty: { url, api_key: 'test-key', batch_size: BATCH, ops_per_minute: 100 },
  }),
  source: { file: undefined },
};
const ctx = {
  config,
  db,
  log: silentLogger,
  metrics: createMetricsRegistry({ processMetrics: false }),
  health: new HealthRegistry(),
  signal: new AbortController().signal,
  now: clock.now,
  interactive: false,
};
const started = performance.now();
const counts = await runExport(ctx, { setup: false, dryRun: false }, { sleep: clock.sleep });
const wallMs = performance.now() - started;
const second = await runExport(ctx, { setup: false, dryRun: false }, { sleep: clock.sleep });
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const people = twenty.rows('person').length;
const convs = twenty.rows('conversation').length;
const tasks = twenty.rows('task').length;
const targets = twenty.rows('taskTarget').length;
const metadataWrites = twenty.requests.filter((r) => r.endpoint === 'metadata' && r.operation === 'mutation').length;
const minimum =
  Math.ceil(people / BATCH) +
  Math.ceil(convs / BATCH) +
  Math.ceil(tasks / BATCH) +
  Math.ceil(targets / BATCH) +
  metadataWrites +
  1;
const records = people + convs + tasks + targets;
const refused = twenty.requests.reduce((n, r) => n + r.rateLimited.length, 0);
const lines = [
  `records in Twenty: ${people} people, ${convs} conversations, ${tasks} tasks, ${targets} task targets (failed: ${counts.failed})`,
  `operations used: ${counts.operations} (minimum possible with ${BATCH}-record batches: ${minimum} = record batches + ${metadataWrites} metadata creates + 1 discovery) → ${(counts.operations / minimum).toFixed(3)}x`,
  `rate-limit refusals from the server: ${refused}; virtual time waited: ${(clock.slept() / 60_000).toFixed(1)} min`,
  `wall time excluding waits: ${(wallMs / 1000).toFixed(2)} s → ${Math.round(records / (wallMs / 1000))} records/s`,
  `second run (nothing new): ${second.operations} operations, ${second.mutations} mutations`,
  `peak RSS: ${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
];
process.stdout.write(`${lines.join('\n')}\n`);
db.close();
await twenty.stop();
