import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../log.ts';
import { createVirtualClock, FakeTwenty } from '../testing/fake-twenty/index.ts';
import { buildDocument, TwentyClient, TwentySchemaError } from './client.ts';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then paces at the configured rate', async () => {
    const clock = createVirtualClock(0);
    const bucket = new TokenBucket({ perMinute: 60, now: clock.now, sleep: clock.sleep });
    await bucket.take(60);
    assert.equal(clock.slept(), 0);
    await bucket.take(1);
    assert.equal(clock.slept(), 1000);
    await bucket.take(120);
    assert.equal(clock.slept(), 121_000);
  });
});

describe('TwentyClient', () => {
  it('aliases root fields and renames variables per call', () => {
    const { document, variables } = buildDocument('mutation', [
      {
        field: 'createPeople',
        args: 'data: $data, upsert: true',
        vars: { data: { type: '[PersonCreateInput!]!', value: [1] } },
        selection: 'id',
      },
      {
        field: 'createTasks',
        args: 'data: $data',
        vars: { data: { type: '[TaskCreateInput!]!', value: [2] } },
        selection: 'id',
      },
    ]);
    assert.equal(
      document,
      'mutation Mcb($data_0: [PersonCreateInput!]!, $data_1: [TaskCreateInput!]!) { r0: createPeople(data: $data_0, upsert: true) { id } r1: createTasks(data: $data_1) { id } }',
    );
    assert.deepEqual(variables, { data_0: [1], data_1: [2] });
  });

  it('retries only the root fields refused by the rate limit', async () => {
    const clock = createVirtualClock();
    const twenty = new FakeTwenty({ now: clock.now, rateLimit: 2, rateWindowMs: 60_000 });
    const url = await twenty.start();
    try {
      const client = new TwentyClient({
        url,
        apiKey: 'test-key',
        opsPerMinute: 1000,
        now: clock.now,
        sleep: clock.sleep,
        log: silentLogger,
      });
      const call = { field: 'people', args: 'first: 1', selection: 'totalCount' };
      const results = await client.graphql('query', [call, call, call]);
      assert.ok(results.every((r) => r.ok));
      assert.deepEqual(twenty.requests[0].rateLimited, ['people']);
      assert.ok(
        twenty.requests.slice(1).every((r) => r.rootFields.length === 1),
        'retries carry only the refused field',
      );
      assert.equal(
        client.operations,
        twenty.requests.reduce((n, r) => n + r.rootFields.length, 0),
      );
      assert.ok(clock.slept() >= 30_000, 'backed off until the server bucket had a token again');
    } finally {
      await twenty.stop();
    }
  });

  it('fails the whole document on an unknown field with a schema error', async () => {
    const clock = createVirtualClock();
    const twenty = new FakeTwenty({ now: clock.now });
    const url = await twenty.start();
    try {
      const client = new TwentyClient({
        url,
        apiKey: 'test-key',
        opsPerMinute: 100,
        now: clock.now,
        sleep: clock.sleep,
        log: silentLogger,
      });
      await assert.rejects(
        client.graphql('query', [{ field: 'people', args: 'first: 1', selection: 'edges { node { id city } }' }]),
        TwentySchemaError,
      );
      const bad = new TwentyClient({
        url,
        apiKey: 'wrong',
        opsPerMinute: 100,
        now: clock.now,
        sleep: clock.sleep,
        log: silentLogger,
      });
      await assert.rejects(
        bad.graphql('query', [{ field: 'people', args: 'first: 1', selection: 'totalCount' }]),
        /MCB_TWENTY_API_KEY/,
      );
    } finally {
      await twenty.stop();
    }
  });
});
