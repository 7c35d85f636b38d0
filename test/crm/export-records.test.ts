import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportToTwenty, runExport } from '../../src/crm/index.ts';
import { tables } from '../../src/db/index.ts';
import { addConversation, addCustomer, classify, harness } from './support.ts';

const WA = 'tel:+33612345678';
const WAZO = 'wazo:0b7f3c2e-8f0a-4c51-9d7e-1a2b3c4d5e6f';

describe('export: people and conversations', () => {
  it('resolves the same customer on WhatsApp and Wazo to one person (same run, then across runs)', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: WA, phone: '+33612345678', name: 'Ana Lima (WA)' });
      addCustomer(h.db, {
        key: WAZO,
        channel: 'wazo',
        phone: '+33 6 12 34 56 78',
        name: 'Ana Lima',
        email: 'ana@example.com',
      });
      addConversation(h.db, { customerKey: WA });
      addConversation(h.db, { customerKey: WAZO, channel: 'wazo' });
      await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      const people = h.twenty.rows('person');
      assert.equal(people.length, 1);
      assert.deepEqual(people[0].name, { firstName: 'Ana', lastName: 'Lima' });
      assert.deepEqual(people[0].phones, {
        primaryPhoneNumber: '612345678',
        primaryPhoneCallingCode: '+33',
        primaryPhoneCountryCode: 'FR',
        additionalPhones: null,
      });
      const convs = h.twenty.rows('conversation');
      assert.equal(convs.length, 2);
      assert.ok(convs.every((c) => c.personId === people[0].id));

      // A Matrix customer arriving later with the same e-mail joins the same person through crm_links.
      addCustomer(h.db, {
        key: 'mxid:@ana:example.org',
        channel: 'matrix',
        mxid: '@ana:example.org',
        email: 'ANA@example.com',
      });
      addConversation(h.db, { customerKey: 'mxid:@ana:example.org', channel: 'matrix' });
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.rows('person').length, 1);
      assert.equal(counts.people_linked, 1);
      assert.equal(h.twenty.rows('conversation').length, 3);
    } finally {
      await h.close();
    }
  });

  it('finds people that already exist in Twenty by e-mail and by phone instead of creating them', async () => {
    const h = await harness();
    try {
      await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      const obj = h.twenty.objects.find((o) => o.nameSingular === 'person');
      assert.ok(obj);
      h.twenty.store.createMany(
        obj,
        [
          {
            id: '11111111-1111-4111-8111-111111111111',
            name: { firstName: 'Bob', lastName: 'Existing' },
            emails: { primaryEmail: 'bob@example.com' },
          },
          {
            id: '22222222-2222-4222-8222-222222222222',
            name: { firstName: 'Carla', lastName: '' },
            phones: { primaryPhoneNumber: '+4915112345678' },
          },
        ],
        false,
      );
      addCustomer(h.db, { key: 'wazo:bob', channel: 'wazo', email: 'Bob@Example.com', name: 'Bob' });
      addCustomer(h.db, { key: 'tel:+4915112345678', phone: '+4915112345678', name: 'Carla (WA)' });
      addConversation(h.db, { customerKey: 'wazo:bob', channel: 'wazo' });
      addConversation(h.db, { customerKey: 'tel:+4915112345678' });
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.rows('person').length, 2);
      assert.equal(counts.people_linked, 2);
      assert.equal(counts.people_created, 0);
      const byPerson = new Set(h.twenty.rows('conversation').map((c) => c.personId));
      assert.deepEqual([...byPerson].sort(), [
        '11111111-1111-4111-8111-111111111111',
        '22222222-2222-4222-8222-222222222222',
      ]);
      // Existing people we only linked are never overwritten.
      assert.deepEqual(h.twenty.rows('person').find((p) => p.id.startsWith('1111'))?.name, {
        firstName: 'Bob',
        lastName: 'Existing',
      });
    } finally {
      await h.close();
    }
  });

  it("finds a person whose additional phones hold the customer's number (reference §4, §12)", async () => {
    const h = await harness();
    try {
      await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      const obj = h.twenty.objects.find((o) => o.nameSingular === 'person');
      assert.ok(obj);
      const known = '44444444-4444-4444-8444-444444444444';
      h.twenty.store.createMany(
        obj,
        [
          {
            id: known,
            name: { firstName: 'Eva', lastName: 'Two-Phones' },
            phones: {
              primaryPhoneNumber: '+4915112345678',
              additionalPhones: [{ number: '699887766', callingCode: '+33', countryCode: 'FR' }],
            },
          },
        ],
        false,
      );
      addCustomer(h.db, { key: 'tel:+33699887766', phone: '+33699887766', name: 'Eva (WA)' });
      addConversation(h.db, { customerKey: 'tel:+33699887766' });
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(counts.people_created, 0);
      assert.equal(counts.people_linked, 1);
      assert.deepEqual(
        h.twenty.rows('person').map((p) => p.id),
        [known],
      );
      assert.equal(h.twenty.rows('conversation')[0]?.personId, known);
    } finally {
      await h.close();
    }
  });

  it('links to the row Twenty keeps when createPeople(upsert) matches a soft-deleted person by e-mail', async () => {
    const h = await harness();
    try {
      await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      const obj = h.twenty.objects.find((o) => o.nameSingular === 'person');
      assert.ok(obj);
      // A person someone deleted in the UI: hidden from look-ups, still matched by upsert (reference §4).
      const trashed = '33333333-3333-4333-8333-333333333333';
      h.twenty.store.softDelete(
        h.twenty.store.createMany(
          obj,
          [{ id: trashed, name: { firstName: 'Dora', lastName: 'Old' }, emails: { primaryEmail: 'dora@example.com' } }],
          false,
        ),
      );
      addCustomer(h.db, { key: 'wazo:dora', channel: 'wazo', email: 'dora@example.com', name: 'Dora New' });
      addCustomer(h.db, { key: 'mxid:@dora:example.org', channel: 'matrix', email: 'dora@example.com' });
      addConversation(h.db, { customerKey: 'wazo:dora', channel: 'wazo' });
      addConversation(h.db, { customerKey: 'mxid:@dora:example.org', channel: 'matrix' });
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(counts.failed, 0);
      const people = h.twenty.rows('person');
      assert.deepEqual(
        people.map((p) => p.id),
        [trashed],
        'the soft-deleted row was restored and updated, no other person made',
      );
      const convs = h.twenty.rows('conversation');
      assert.equal(convs.length, 2);
      assert.ok(
        convs.every((c) => c.personId === trashed),
        'conversations point at the person that exists',
      );
      const links = h.db.db
        .select()
        .from(tables.crmLinks)
        .all()
        .filter((l) => l.kind === 'person');
      assert.deepEqual(
        links.map((l) => l.twentyId),
        [trashed, trashed],
      );
    } finally {
      await h.close();
    }
  });

  it('re-export updates the same records when the classification changes', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: WA, phone: '+33612345678', name: 'Ana' });
      const id = addConversation(h.db, { customerKey: WA, sentiment: 'neutral' });
      await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      classify(h.db, id, { sentiment: 'positive', score: 0.7, intent: 'praise' });
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(counts.updated, 1);
      assert.equal(counts.exported, 0);
      const rows = h.twenty.rows('conversation');
      assert.equal(rows.length, 1);
      assert.equal(rows[0].sentiment, 'POSITIVE');
      assert.equal(rows[0].intent, 'PRAISE');
      assert.equal(rows[0].conversationKey, id);
    } finally {
      await h.close();
    }
  });

  it('skips unclassified conversations and never sends an empty primaryEmail', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: WA, phone: '+33612345678', name: 'Ana', email: '' });
      addConversation(h.db, { customerKey: WA });
      addConversation(h.db, { customerKey: WA, classified: false });
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(counts.conversations, 1);
      assert.equal(h.twenty.rows('conversation').length, 1);
      const sent = h.twenty.mutations().find((r) => r.rootFields[0] === 'createPeople');
      assert.equal(JSON.stringify(sent?.variables).includes('primaryEmail'), false);
    } finally {
      await h.close();
    }
  });

  it('does not export support staff as people', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, {
        key: 'mxid:@agent:example.org',
        channel: 'matrix',
        mxid: '@agent:example.org',
        name: 'Agent',
      });
      addConversation(h.db, {
        customerKey: 'mxid:@agent:example.org',
        channel: 'matrix',
        agents: ['@agent:example.org'],
      });
      await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.rows('person').length, 0);
      assert.equal(h.twenty.rows('conversation')[0].personId, null);
    } finally {
      await h.close();
    }
  });

  it('dry-run calls no mutation and reports counts and a sample', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: WA, phone: '+33612345678', name: 'Ana' });
      addConversation(h.db, { customerKey: WA, sentiment: 'negative', score: -0.8, status: 'OPEN' });
      const report = await exportToTwenty(h.ctx(), { setup: false, dryRun: true }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.mutations().length, 0);
      assert.ok(h.twenty.requests.every((r) => r.operation === 'query'));
      assert.equal(report.counts.bootstrap_needed, 1);
      assert.equal(report.counts.exported, 3, 'one person, one conversation, one task');
      assert.equal(report.sample.conversations.length, 1);
      assert.equal(
        h.twenty.objects.some((o) => o.nameSingular === 'conversation'),
        false,
      );
    } finally {
      await h.close();
    }
  });
});
