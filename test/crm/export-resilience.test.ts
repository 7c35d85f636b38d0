import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runExport } from '../../src/crm/index.ts';
import { tables } from '../../src/db/index.ts';
import { addConversation, addCustomer, classify, harness } from './support.ts';

function seed(h: Awaited<ReturnType<typeof harness>>, n: number, from = 0): string[] {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const phone = `+336${String(10000000 + i).padStart(8, '0')}`;
    addCustomer(h.db, { key: `tel:${phone}`, phone, name: `Customer ${i} (WA)` });
    ids.push(addConversation(h.db, { customerKey: `tel:${phone}` }));
  }
  return ids;
}

describe('export: limits and failures', () => {
  it('honours the server rate limit without losing records, retrying only the refused root fields', async () => {
    const h = await harness({ rateLimit: 5, rateWindowMs: 60_000 });
    try {
      seed(h, 60);
      // The client believes it may send 100/min; the server allows 5/min: rate-limit errors must occur.
      const counts = await runExport(
        h.ctx({ batch_size: 10, ops_per_minute: 100 }),
        { setup: false, dryRun: false },
        { sleep: h.clock.sleep },
      );
      assert.equal(h.twenty.rows('person').length, 60);
      assert.equal(h.twenty.rows('conversation').length, 60);
      assert.equal(counts.failed, 0);
      const limited = h.twenty.requests.filter((r) => r.rateLimited.length > 0);
      assert.ok(limited.length > 0, 'the fake refused some calls');
      assert.ok(h.clock.slept() > 60_000, 'waited in virtual time');
      assert.ok(h.logs.some((l) => String(l.msg).includes('rate limit')));
    } finally {
      await h.close();
    }
  });

  it('keeps to its own budget: ops_per_minute paces calls so the server never refuses', async () => {
    const h = await harness({ rateLimit: 100 });
    try {
      seed(h, 50);
      await runExport(
        h.ctx({ batch_size: 5, ops_per_minute: 30 }),
        { setup: false, dryRun: false },
        { sleep: h.clock.sleep },
      );
      assert.equal(h.twenty.requests.filter((r) => r.rateLimited.length > 0).length, 0);
      assert.equal(h.twenty.rows('conversation').length, 50);
      const ops = h.twenty.requests.reduce((n, r) => n + r.rootFields.length, 0);
      // 30 per minute after an initial burst of 30.
      assert.ok(h.clock.slept() >= ((ops - 30) / 30) * 60_000 - 1000);
    } finally {
      await h.close();
    }
  });

  it('retries HTTP 429, 5xx and network errors', async () => {
    const h = await harness();
    try {
      seed(h, 3);
      await runExport(h.ctx(), { setup: true, dryRun: false }, { sleep: h.clock.sleep });
      seed(h, 3, 100);
      h.twenty.failNext('http429', 'http500', 'network', 'rateLimit');
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(counts.failed, 0);
      assert.equal(h.twenty.rows('conversation').length, 6);
      assert.equal(h.twenty.rows('person').length, 6);
    } finally {
      await h.close();
    }
  });

  it('isolates a record Twenty refuses: it is recorded as failed and the rest of its batch goes through', async () => {
    const h = await harness();
    try {
      const ids = seed(h, 20);
      const bad = ids[7];
      h.twenty.rejectRecord = (object, data) =>
        object === 'conversation' && data.conversationKey === bad ? 'Invalid value for conversation' : undefined;
      const counts = await runExport(
        h.ctx({ batch_size: 20 }),
        { setup: false, dryRun: false },
        { sleep: h.clock.sleep },
      );
      assert.equal(counts.failed, 1);
      assert.equal(h.twenty.rows('conversation').length, 19);
      const link = h.db.db
        .select()
        .from(tables.crmLinks)
        .all()
        .find((l) => l.localKey === bad);
      assert.equal(link?.status, 'failed');
      assert.match(link?.error ?? '', /Invalid value/);
      // Unchanged, the failed record is not retried on every run.
      h.twenty.rejectRecord = undefined;
      const again = await runExport(
        h.ctx({ batch_size: 20 }),
        { setup: false, dryRun: false },
        { sleep: h.clock.sleep },
      );
      assert.equal(again.operations, 0);
    } finally {
      await h.close();
    }
  });

  it('splits a batch larger than the server limit', async () => {
    const h = await harness({ version: '1.x' });
    try {
      seed(h, 70);
      const counts = await runExport(
        h.ctx({ batch_size: 70 }),
        { setup: false, dryRun: false },
        { sleep: h.clock.sleep },
      );
      assert.equal(counts.failed, 0);
      assert.equal(h.twenty.rows('conversation').length, 70);
    } finally {
      await h.close();
    }
  });
  it('stops on a revoked API key (HTTP 200 + UNAUTHENTICATED, reference §3) without marking records failed', async () => {
    const h = await harness();
    try {
      const ids = seed(h, 3);
      await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      // New classifications: only conversations need sending (people are unchanged, the model is cached).
      for (const id of ids) classify(h.db, id, { sentiment: 'positive', score: 0.9 });
      await assert.rejects(
        runExport(h.ctx({ api_key: 'revoked-key' }), { setup: false, dryRun: false }, { sleep: h.clock.sleep }),
        /Token invalid.*MCB_TWENTY_API_KEY/,
      );
      const failed = h.db.db
        .select()
        .from(tables.crmLinks)
        .all()
        .filter((l) => l.status === 'failed');
      assert.deepEqual(failed, [], 'an auth error is not a content error of a record');
      // With a valid key again, the same records go through.
      const counts = await runExport(h.ctx(), { setup: false, dryRun: false }, { sleep: h.clock.sleep });
      assert.equal(counts.failed, 0);
      assert.equal(counts.updated, 3);
      assert.ok(h.twenty.rows('conversation').every((c) => c.sentiment === 'POSITIVE'));
    } finally {
      await h.close();
    }
  });
});
