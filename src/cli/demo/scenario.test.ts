import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadScenario, localTime, scenarioDay } from './scenario.ts';

describe('demo scenario', () => {
  it('is valid and covers what the demo promises', () => {
    const s = loadScenario();
    assert.ok(s.customers.length >= 12);
    const channels = new Set(s.conversations.map((c) => c.channel));
    assert.deepEqual([...channels].sort(), ['wazo', 'whatsapp']);
    assert.deepEqual([...new Set(s.customers.map((c) => c.lang))].sort(), ['en', 'fr']);
    const both = s.customers.filter((c) => c.channel === 'both');
    assert.ok(both.length >= 1);
    for (const b of both)
      assert.deepEqual([...new Set(s.conversations.filter((c) => c.customer === b.id).map((c) => c.channel))].sort(), [
        'wazo',
        'whatsapp',
      ]);
  });

  it('places local times on the previous day in the scenario time zone', () => {
    const now = Date.parse('2026-07-15T10:00:00Z');
    const day = scenarioDay(now, 'Europe/London');
    assert.deepEqual(day, { y: 2026, m: 7, d: 14 });
    // London is UTC+1 in July.
    assert.equal(new Date(localTime(day, '08:02', 'Europe/London')).toISOString(), '2026-07-14T07:02:00.000Z');
    assert.equal(
      new Date(localTime({ y: 2026, m: 1, d: 10 }, '08:02', 'Europe/Paris')).toISOString(),
      '2026-01-10T07:02:00.000Z',
    );
  });
});
