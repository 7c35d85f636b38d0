/** The classify stage against an in-memory database: incremental runs, batches, revisions and model changes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Config, loadConfig } from '../src/config/index.ts';
import { type DatabaseHandle, openDatabase, tables } from '../src/db/index.ts';
import { HealthRegistry } from '../src/health.ts';
import { silentLogger } from '../src/log.ts';
import { createMetricsRegistry } from '../src/metrics.ts';
import { loadModelSet, type ModelSet, PACKAGED_MODEL_DIR, runClassify } from '../src/nlp/index.ts';
import type { StageContext } from '../src/stage.ts';

const baseModels = loadModelSet(PACKAGED_MODEL_DIR);
const baseConfig = loadConfig({ env: {}, sections: ['database', 'nlp'] });

function context(db: DatabaseHandle, batchSize = 2): StageContext {
  const config = { ...baseConfig, nlp: { ...baseConfig.nlp, batch_size: batchSize } } as Config;
  let t = 1_800_000_000_000;
  return {
    config,
    db,
    log: silentLogger,
    metrics: createMetricsRegistry(),
    health: new HealthRegistry(),
    signal: new AbortController().signal,
    now: () => t++,
    interactive: false,
  };
}

type EventRow = typeof tables.historyEvents.$inferInsert;
let seq = 0;
function event(db: DatabaseHandle, over: Partial<EventRow>): string {
  seq++;
  const row: EventRow = {
    eventId: `$e${String(seq).padStart(4, '0')}`,
    roomId: '!room:hs',
    sender: '@whatsapp_33600000000:hs',
    senderRole: 'customer',
    type: 'm.room.message',
    msgtype: 'm.text',
    body: 'hello',
    ts: 1_700_000_000_000 + seq * 1000,
    conversationId: '!room:hs#1',
    ...over,
  };
  db.db.insert(tables.historyEvents).values(row).run();
  return row.eventId;
}

function conversation(db: DatabaseHandle, id = '!room:hs#1', revision = 1): void {
  db.db
    .insert(tables.conversations)
    .values({
      id,
      roomId: '!room:hs',
      channel: 'whatsapp',
      startedAt: 1_700_000_000_000,
      lastMessageAt: 1_700_000_100_000,
      messageCount: 4,
      customerMessageCount: 3,
      agentMessageCount: 1,
      status: 'RESOLVED',
      revision,
      updatedAt: 1_700_000_100_000,
    })
    .onConflictDoUpdate({ target: tables.conversations.id, set: { revision } })
    .run();
}

function seed(db: DatabaseHandle) {
  conversation(db);
  event(db, { body: 'bonjour, ma box internet ne marche plus depuis hier 😡' });
  event(db, { senderRole: 'staff', sender: '@agent:hs', body: 'Bonjour, pouvez-vous redémarrer la box svp ?' });
  event(db, { body: 'toujours en panne, la box clignote rouge' });
  event(db, { body: 'ça remarche, merci beaucoup !' });
  event(db, { senderRole: 'bot', sender: '@bot:hs', body: 'ticket closed' });
  event(db, { body: null, redacted: true });
  event(db, { type: 'm.reaction', body: '👍' });
}

const messageRows = (db: DatabaseHandle) => db.db.select().from(tables.messageClassifications).all();
const conversationRows = (db: DatabaseHandle) => db.db.select().from(tables.conversationClassifications).all();

describe('runClassify', () => {
  it('classifies customer and staff text messages and the conversation, in batches', async () => {
    const db = openDatabase('sqlite::memory:');
    seed(db);
    const counts = await runClassify(context(db), { reclassify: false, models: baseModels });
    assert.equal(counts.messages, 4);
    assert.equal(counts.conversations, 1);
    assert.equal(counts.batches, 3); // 2 + 2 messages, then 1 conversation batch
    const rows = messageRows(db);
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => r.modelVersion === baseModels.version && r.language === 'fr'));
    assert.deepEqual(rows.map((r) => r.role).sort(), ['customer', 'customer', 'customer', 'staff']);
    const [conv] = conversationRows(db);
    assert.ok(conv);
    assert.equal(conv.intentLabel, 'technical');
    assert.equal(conv.language, 'fr');
    assert.equal(conv.conversationRevision, 1);
    assert.ok((conv.sentimentTrend ?? 0) > 0, 'ends better than it started');
    assert.ok(JSON.parse(conv.keywords).includes('box'));
    assert.notEqual(conv.agentSentimentScore, null);
    db.close();
  });

  it('is incremental: a second run does nothing; new messages and revisions are picked up', async () => {
    const db = openDatabase('sqlite::memory:');
    seed(db);
    await runClassify(context(db), { reclassify: false, models: baseModels });
    const again = await runClassify(context(db), { reclassify: false, models: baseModels });
    assert.equal(again.messages, 0);
    assert.equal(again.conversations, 0);
    event(db, { body: 'finalement je veux résilier mon abonnement' });
    conversation(db, '!room:hs#1', 2);
    const third = await runClassify(context(db), { reclassify: false, models: baseModels });
    assert.equal(third.messages, 1);
    assert.equal(third.conversations, 1);
    assert.equal(conversationRows(db)[0]?.conversationRevision, 2);
    db.close();
  });

  it('reclassifies everything when the model version changes, and with --reclassify', async () => {
    const db = openDatabase('sqlite::memory:');
    seed(db);
    await runClassify(context(db), { reclassify: false, models: baseModels });
    const newer: ModelSet = { ...baseModels, version: 'feedc0ffee00' };
    const changed = await runClassify(context(db), { reclassify: false, models: newer });
    assert.equal(changed.messages, 4);
    assert.equal(changed.conversations, 1);
    assert.ok(messageRows(db).every((r) => r.modelVersion === 'feedc0ffee00'));
    assert.equal(conversationRows(db)[0]?.modelVersion, 'feedc0ffee00');
    const forced = await runClassify(context(db), { reclassify: true, models: newer });
    assert.equal(forced.messages, 4);
    assert.equal(forced.conversations, 1);
    db.close();
  });

  it('drops the classification of a message once its text is redacted', async () => {
    const db = openDatabase('sqlite::memory:');
    seed(db);
    const id = event(db, { body: 'my card number is in this message' });
    await runClassify(context(db), { reclassify: false, models: baseModels });
    assert.ok(messageRows(db).some((r) => r.eventId === id));
    db.sqlite.prepare('UPDATE history_events SET body = NULL, redacted = 1 WHERE event_id = ?').run(id);
    const counts = await runClassify(context(db), { reclassify: false, models: baseModels });
    assert.equal(counts.removed, 1);
    assert.ok(!messageRows(db).some((r) => r.eventId === id));
    db.close();
  });

  it('ranks conversation keywords against the stored corpus once it is large enough', async () => {
    const db = openDatabase('sqlite::memory:');
    // "fibrelink" is in every conversation: frequent in this corpus, however rare in the training data.
    for (let i = 0; i < 40; i++) {
      const id = `!room:hs#c${String(i).padStart(2, '0')}`;
      conversation(db, id);
      event(db, {
        conversationId: id,
        body:
          i === 0 ? 'fibrelink fibrelink charged me twice on the invoice refund' : 'fibrelink fibrelink modem is slow',
      });
    }
    await runClassify(context(db, 100), { reclassify: false, models: baseModels });
    const target = conversationRows(db).find((r) => r.conversationId === '!room:hs#c00')!;
    const keywords = JSON.parse(target.keywords) as string[];
    assert.ok(keywords.includes('fibrelink'));
    assert.ok(keywords.indexOf('invoice') < keywords.indexOf('fibrelink'), keywords.join(', '));
    assert.ok(keywords.indexOf('refund') < keywords.indexOf('fibrelink'), keywords.join(', '));
    const docs = db.sqlite.prepare('SELECT COUNT(*) AS n FROM conversation_terms').get() as { n: number };
    assert.equal(docs.n, 40);
    db.close();
  });
});
