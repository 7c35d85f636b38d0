import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { followUpReasons, normaliseEmail, normalisePhone, personPayload, recordId, splitName } from './mapping.ts';

describe('normalisePhone (as Twenty stores phones)', () => {
  const cases: [string, { number: string; callingCode: string; country: string } | undefined][] = [
    ['+33612345678', { number: '612345678', callingCode: '+33', country: 'FR' }],
    ['+33 6 12 34 56 78', { number: '612345678', callingCode: '+33', country: 'FR' }],
    ['33612345678@s.whatsapp.net', { number: '612345678', callingCode: '+33', country: 'FR' }],
    ['0033612345678', { number: '612345678', callingCode: '+33', country: 'FR' }],
    ['+4915112345678', { number: '15112345678', callingCode: '+49', country: 'DE' }],
    ['+1 415 555 2671', { number: '4155552671', callingCode: '+1', country: 'US' }],
    ['+442079460958', { number: '2079460958', callingCode: '+44', country: 'GB' }],
    ['+123', undefined],
    ['not a phone', undefined],
    ['', undefined],
  ];
  for (const [raw, want] of cases) {
    it(`${JSON.stringify(raw)} → ${want ? `${want.callingCode} ${want.number}` : 'rejected'}`, () => {
      const got = normalisePhone(raw);
      assert.deepEqual(got && { number: got.number, callingCode: got.callingCode, country: got.country }, want);
    });
  }
});

describe('people mapping', () => {
  it('drops the bridge suffix and splits first/last name', () => {
    assert.deepEqual(splitName('Ana Maria Lima (WA)'), { firstName: 'Ana', lastName: 'Maria Lima' });
    assert.deepEqual(splitName('Bob'), { firstName: 'Bob', lastName: '' });
    assert.deepEqual(splitName(null), { firstName: '', lastName: '' });
  });

  it('never sends an empty or invalid primaryEmail', () => {
    assert.equal(normaliseEmail(''), undefined);
    assert.equal(normaliseEmail('nope'), undefined);
    assert.equal(normaliseEmail(' Ana@Example.COM '), 'ana@example.com');
    const p = personPayload(
      { key: 'tel:+33612345678', channel: 'whatsapp', phone: '+33612345678', mxid: null, name: '', email: '' },
      undefined,
      new Set(),
    );
    assert.equal('emails' in p, false);
    assert.deepEqual(p.name, { firstName: '+33612345678', lastName: '' });
  });

  it('derives stable UUIDv5 ids accepted by Twenty (v1–v5)', () => {
    const id = recordId('person', 'tel:+33612345678');
    assert.equal(id, recordId('person', 'tel:+33612345678'));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(id, recordId('conversation', 'tel:+33612345678'));
  });

  it('asks for a follow-up on bad sentiment, an action intent or an unanswered customer, not on a closing thanks', () => {
    const base = {
      id: 'c',
      roomId: '!r:hs',
      channel: 'whatsapp',
      customerKey: 'tel:+33612345678',
      customerName: 'Ana',
      startedAt: 0,
      lastMessageAt: 0,
      messageCount: 3,
      customerMessageCount: 2,
      agentMessageCount: 1,
      firstResponseSeconds: 60,
      resolutionSeconds: null,
      status: 'OPEN',
      agents: [],
      sentimentLabel: 'neutral',
      sentimentScore: 0,
      intentLabel: 'question',
      intents: ['question', 'complaint'],
      keywords: [],
      language: 'en',
      excerpt: [],
    };
    const rules = { negativeThreshold: -0.3, unansweredAfterMs: 4 * 3600_000 };
    const later = 5 * 3600_000;
    assert.deepEqual(followUpReasons({ ...base, lastCustomerIntent: 'question' }, later, rules), [
      'customer waiting for an answer',
    ]);
    assert.deepEqual(followUpReasons({ ...base, lastCustomerIntent: 'praise' }, later, rules), []);
    assert.deepEqual(followUpReasons({ ...base, lastCustomerIntent: 'question' }, 3600_000, rules), []);
    assert.deepEqual(
      followUpReasons(
        {
          ...base,
          intentLabel: 'billing',
          sentimentLabel: 'negative',
          sentimentScore: -0.8,
          status: 'WAITING_ON_CUSTOMER',
        },
        later,
        rules,
      ),
      ['negative sentiment', 'billing intent'],
    );
  });
});
