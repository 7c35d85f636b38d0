import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportToTwenty, runExport } from '../../src/crm/index.ts';
import { addConversation, addCustomer, harness } from './support.ts';

describe('export: data model bootstrap', () => {
  it('creates the conversation object, its fields and the person relation from an empty workspace', async () => {
    const h = await harness({ schemaLag: 2 });
    try {
      const counts = await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      const conv = h.twenty.objects.find((o) => o.nameSingular === 'conversation');
      assert.ok(conv, 'conversation object created');
      assert.equal(conv.labelSingular, 'Conversation');
      assert.equal(conv.icon, 'IconMessages');
      const fields = new Map(conv.fields.map((f) => [f.name, f]));
      assert.equal(fields.get('conversationKey')?.isUnique, true);
      assert.equal(fields.get('sentiment')?.type, 'SELECT');
      assert.equal(fields.get('summary')?.type, 'RICH_TEXT');
      assert.equal(fields.get('person')?.relation?.type, 'MANY_TO_ONE');
      const person = h.twenty.objects.find((o) => o.nameSingular === 'person');
      assert.equal(person?.fields.find((f) => f.name === 'conversations')?.relation?.targetObject, 'conversation');
      assert.equal(
        person?.fields.some((f) => f.name === 'lastContactAt'),
        false,
        'no enrichment fields unless enrich_people',
      );
      // Polled through the schema cache lag: the last core query succeeded.
      const polls = h.twenty.requests.filter((r) => r.rootFields[0] === 'conversations');
      assert.ok(polls.length >= 3);
      assert.equal(polls.at(-1)?.status, 200);
      assert.equal(counts.failed, 0);
    } finally {
      await h.close();
    }
  });

  it('is idempotent: a second setup creates nothing, and a plain run with nothing new sends no request at all', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: 'tel:+33612345678', phone: '+33612345678', name: 'Ana Lima (WA)' });
      addConversation(h.db, { customerKey: 'tel:+33612345678' });
      await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      const objectCount = h.twenty.objects.length;
      const fieldCount = h.twenty.objects.reduce((n, o) => n + o.fields.length, 0);
      const before = h.twenty.requests.length;
      const again = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.requests.length, before, 'no request when nothing changed');
      assert.equal(again.operations, 0);
      assert.equal(again.exported + again.updated + again.failed, 0);
      const setup = await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.objects.length, objectCount);
      assert.equal(
        h.twenty.objects.reduce((n, o) => n + o.fields.length, 0),
        fieldCount,
      );
      assert.equal(setup.mutations, 0, 'setup on an up-to-date workspace sends no mutation');
      assert.equal(h.twenty.mutations().length, 2, 'only the first run wrote (people + conversations)');
    } finally {
      await h.close();
    }
  });

  it('logs drift it will not fix and does not send the drifted field', async () => {
    const h = await harness();
    try {
      await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      h.twenty.setFieldType('conversation', 'sentimentScore', 'TEXT');
      addCustomer(h.db, { key: 'tel:+33612345678', phone: '+33612345678', name: 'Ana' });
      addConversation(h.db, { customerKey: 'tel:+33612345678' });
      const report = await exportToTwenty(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      assert.deepEqual(report.drift, ['conversation.sentimentScore is TEXT, expected NUMBER']);
      assert.ok(h.logs.some((l) => l.level === 'warn' && String(l.drift).includes('sentimentScore')));
      assert.equal(
        h.twenty.objects.find((o) => o.nameSingular === 'conversation')?.fields.find((f) => f.name === 'sentimentScore')
          ?.type,
        'TEXT',
      );
      const sent = h.twenty.mutations().find((r) => r.rootFields[0] === 'createConversations');
      const record = (sent?.variables.data_0 as Record<string, unknown>[] | undefined)?.[0] ?? {};
      assert.equal('sentimentScore' in record, false);
      assert.equal(report.counts.failed, 0);
    } finally {
      await h.close();
    }
  });

  it('creates person enrichment fields with enrich_people and fills them', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: 'tel:+33612345678', phone: '+33612345678', name: 'Ana' });
      addConversation(h.db, { customerKey: 'tel:+33612345678', score: 0.5, sentiment: 'positive' });
      await runExport(h.ctx({ enrich_people: true }), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      const person = h.twenty.objects.find((o) => o.nameSingular === 'person');
      for (const f of ['lastContactAt', 'averageSentiment', 'conversationCount', 'channels']) {
        assert.ok(
          person?.fields.some((x) => x.name === f),
          f,
        );
      }
      const [row] = h.twenty.rows('person');
      assert.equal(row.conversationCount, 1);
      assert.deepEqual(row.channels, ['WHATSAPP']);
    } finally {
      await h.close();
    }
  });
});
