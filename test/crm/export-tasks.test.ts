import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forgetCustomer, runExport } from '../../src/crm/index.ts';
import { forgetCustomerHistory } from '../../src/sync/index.ts';
import { tables } from '../../src/db/index.ts';
import { addConversation, addCustomer, harness } from './support.ts';

const KEY = 'tel:+33612345678';

describe('export: follow-up tasks', () => {
  it('creates one task per conversation needing action, linked to the person, assigned, then closes it when resolved', async () => {
    const h = await harness();
    try {
      const members = h.twenty.objects.find((o) => o.nameSingular === 'workspaceMember');
      assert.ok(members);
      h.twenty.store.createMany(
        members,
        [
          {
            id: '33333333-3333-4333-8333-333333333333',
            name: { firstName: 'Zoe', lastName: 'Agent' },
            userEmail: 'zoe@corp.example',
          },
        ],
        false,
      );
      addCustomer(h.db, { key: KEY, phone: '+33612345678', name: 'Ana Lima (WA)' });
      const id = addConversation(h.db, {
        customerKey: KEY,
        sentiment: 'negative',
        score: -0.7,
        intent: 'complaint',
        messages: ['My order never arrived!'],
      });
      addConversation(h.db, { customerKey: KEY, sentiment: 'positive', score: 0.6, intent: 'praise' });
      const cfg = { agents: { '@agent:example.org': 'zoe@corp.example' } };
      await runExport(h.ctx(cfg), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      const tasks = h.twenty.rows('task');
      assert.equal(tasks.length, 1);
      const [task] = tasks;
      assert.equal(task.status, 'TODO');
      assert.equal(task.assigneeId, '33333333-3333-4333-8333-333333333333');
      assert.match(task.title as string, /Ana Lima/);
      const body = (task.bodyV2 as { markdown: string }).markdown;
      assert.match(body, /My order never arrived!/);
      assert.match(body, /https:\/\/matrix\.to\/#\/!room/);
      const conv = h.twenty.rows('conversation').find((c) => c.conversationKey === id);
      assert.equal(
        Date.parse(task.dueAt as string) - Date.parse(conv?.lastMessageAt as string),
        86_400_000,
        'due one task_due_after later',
      );
      const [target] = h.twenty.rows('taskTarget');
      assert.equal(target.taskId, task.id);
      assert.equal(target.targetPersonId, h.twenty.rows('person')[0].id);

      const again = await runExport(h.ctx(cfg), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(again.mutations, 0, 'no duplicate, nothing re-sent');

      addConversation(h.db, { id, customerKey: KEY, status: 'RESOLVED' });
      await runExport(h.ctx(cfg), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(h.twenty.rows('task').length, 1);
      assert.equal(h.twenty.rows('task')[0].status, 'DONE');
      assert.equal(h.twenty.rows('taskTarget').length, 1);
    } finally {
      await h.close();
    }
  });

  it('flags a customer left unanswered, keeps message text out with export_excerpts = false, and uses 1.x shapes', async () => {
    const h = await harness({ version: '1.x' });
    try {
      addCustomer(h.db, { key: KEY, phone: '+33612345678', name: 'Ana' });
      const old = h.clock.now() - 6 * 3_600_000;
      addConversation(h.db, {
        customerKey: KEY,
        status: 'OPEN',
        startedAt: old,
        lastMessageAt: old,
        messages: ['secret text'],
      });
      await runExport(h.ctx({ export_excerpts: false }), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      const [task] = h.twenty.rows('task');
      assert.match(task.title as string, /waiting/);
      assert.equal(JSON.stringify(task).includes('secret text'), false);
      assert.equal(JSON.stringify(h.twenty.rows('conversation')).includes('secret text'), false);
      assert.equal(
        h.twenty.rows('taskTarget')[0].personId,
        h.twenty.rows('person')[0].id,
        'older servers use personId',
      );
      const summary = h.twenty.objects
        .find((o) => o.nameSingular === 'conversation')
        ?.fields.find((f) => f.name === 'summary');
      assert.equal(summary?.type, 'RICH_TEXT_V2');
    } finally {
      await h.close();
    }
  });

  it('forget --customer soft-deletes the person, conversations and tasks in Twenty and erases local rows', async () => {
    const h = await harness();
    try {
      addCustomer(h.db, { key: KEY, phone: '+33612345678', name: 'Ana' });
      addCustomer(h.db, { key: 'tel:+33699999999', phone: '+33699999999', name: 'Other' });
      addConversation(h.db, { customerKey: KEY, sentiment: 'negative', score: -0.9 });
      addConversation(h.db, { customerKey: 'tel:+33699999999' });
      await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      const report = await forgetCustomer(h.ctx(), KEY, { sleep: h.clock.sleep });
      assert.deepEqual(report.twenty, { people: 1, conversations: 1, tasks: 1, taskTargets: 1 });
      assert.ok((report.local.crm_links ?? 0) >= 4, 'person, conversation, task and task target links');
      // The history is erased by its own stage (the forget command runs both).
      const history = forgetCustomerHistory(h.db.sqlite, KEY);
      assert.equal(history.customers, 1);
      assert.equal(
        h.db.db
          .select()
          .from(tables.conversations)
          .all()
          .filter((c) => c.customerKey === KEY).length,
        0,
        'no conversation is linked to the customer any more',
      );
      assert.equal(h.twenty.rows('person').length, 1);
      assert.equal(h.twenty.rows('person', { withDeleted: true }).length, 2);
      assert.equal(h.twenty.rows('conversation').length, 1);
      assert.equal(h.twenty.rows('task').length, 0);
      assert.equal(h.db.db.select().from(tables.customers).all().length, 1);
      assert.equal(
        h.db.db
          .select()
          .from(tables.crmLinks)
          .all()
          .filter((l) => l.localKey.includes('+33612345678') || l.twentyId === report.customer).length,
        0,
      );
    } finally {
      await h.close();
    }
  });
});
