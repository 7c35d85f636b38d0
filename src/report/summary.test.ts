import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHtml } from './render-html.ts';
import { renderText } from './render-text.ts';
import { dayIn, formatDuration, percentile, type ReportConversation, summarize } from './summary.ts';

function conversation(over: Partial<ReportConversation> = {}): ReportConversation {
  return {
    id: '!r:hs#1',
    room_id: '!r:hs',
    channel: 'whatsapp',
    customer: {
      key: 'tel:+447700900201',
      phone: '+447700900201',
      mxid: '@whatsapp_447700900201:hs',
      name: 'Maria Silva',
    },
    started_at: '2026-11-21T08:02:00.000Z',
    last_message_at: '2026-11-21T11:52:00.000Z',
    message_count: 5,
    customer_message_count: 3,
    agent_message_count: 2,
    first_response_seconds: 540,
    resolution_seconds: 13800,
    status: 'RESOLVED',
    agents: ['@alice:hs'],
    encrypted: false,
    sentiment: { label: 'positive', score: 0.4 },
    intent: { label: 'technical', confidence: 0.8 },
    keywords: ['internet', 'router'],
    language: 'en',
    ...over,
  };
}

describe('report summary', () => {
  const now = Date.parse('2026-11-22T09:00:00Z');
  const list = [
    conversation(),
    conversation({
      id: 'b',
      channel: 'wazo',
      status: 'OPEN',
      first_response_seconds: null,
      resolution_seconds: null,
      agents: [],
      last_message_at: '2026-11-21T14:12:00.000Z',
      customer: { key: 'wazo:1', phone: null, mxid: '@wazo_1:hs', name: 'Lucas' },
      sentiment: { label: 'negative', score: -0.6 },
      intent: { label: 'technical', confidence: 0.7 },
      keywords: ['box'],
    }),
    conversation({
      id: 'c',
      channel: 'wazo',
      first_response_seconds: 60,
      resolution_seconds: 600,
      agents: ['@bruno:hs', '@alice:hs'],
      sentiment: { label: 'negative', score: -0.2 },
      intent: { label: 'billing', confidence: 0.9 },
      started_at: '2026-11-20T23:30:00.000Z',
      customer: { key: 'wazo:2', phone: null, mxid: '@wazo_2:hs', name: 'Claire' },
    }),
    conversation({ id: 'd', sentiment: null, intent: null, keywords: null, first_response_seconds: 3600 }),
  ];
  const s = summarize(list, { timezone: 'Europe/Paris', now, unansweredAfterMs: 4 * 3600_000 });

  it('counts conversations by channel and status', () => {
    assert.equal(s.total, 4);
    assert.deepEqual(s.byChannel.whatsapp, { OPEN: 0, WAITING_ON_CUSTOMER: 0, RESOLVED: 2 });
    assert.deepEqual(s.byChannel.wazo, { OPEN: 1, WAITING_ON_CUSTOMER: 0, RESOLVED: 1 });
  });

  it('counts sentiment and groups it by local day', () => {
    assert.deepEqual(s.sentiment, { positive: 1, neutral: 0, negative: 2, unclassified: 1 });
    // 23:30Z on the 20th is 00:30 on the 21st in Paris.
    assert.deepEqual(
      s.sentimentByDay.map((d) => d.day),
      ['2026-11-21'],
    );
    assert.equal(s.sentimentByDay[0].negative, 2);
    assert.ok(Math.abs((s.sentimentByDay[0].meanScore ?? 0) - (0.4 - 0.6 - 0.2) / 3) < 1e-9);
  });

  it('ranks intents and keywords', () => {
    assert.deepEqual(s.intents, [
      { label: 'technical', count: 2 },
      { label: 'billing', count: 1 },
    ]);
    assert.equal(s.keywords[0].keyword, 'internet');
  });

  it('computes median and p90 response times per channel and agent', () => {
    assert.deepEqual(s.responseByChannel.whatsapp.firstResponse, { n: 2, median: 540, p90: 3600 });
    assert.deepEqual(s.responseByChannel.wazo.firstResponse, { n: 1, median: 60, p90: 60 });
    assert.equal(s.responseByAgent['@alice:hs'].conversations, 3);
    assert.deepEqual(s.responseByAgent['@bruno:hs'].resolution, { n: 1, median: 600, p90: 600 });
  });

  it('does not count a customer whose last word was thanks as unanswered', () => {
    const thanks = summarize(
      [
        conversation({
          id: 't',
          status: 'OPEN',
          last_message_at: '2026-11-21T09:00:00.000Z',
          last_customer_intent: 'praise',
        }),
      ],
      { timezone: 'UTC', now, unansweredAfterMs: 3600_000 },
    );
    assert.equal(thanks.unanswered.length, 0);
  });

  it('lists unanswered conversations and the most negative customers', () => {
    assert.deepEqual(
      s.unanswered.map((u) => u.customer),
      ['Lucas'],
    );
    assert.deepEqual(
      s.mostNegative.map((m) => m.customer),
      ['Lucas', 'Claire'],
    );
    assert.equal(s.mostNegative[1].worstIntent, 'billing');
  });

  it('renders text and a self-contained HTML page', () => {
    const text = renderText(s, list, { generatedAt: '2026-11-22T09:00:00Z', since: null });
    assert.match(text, /Unanswered: 1/);
    const html = renderHtml(
      s,
      [conversation({ customer: { key: 'x', phone: null, mxid: null, name: '<script>alert(1)</script>' } })],
      {
        generatedAt: 'now',
        since: '7d',
      },
    );
    assert.ok(!html.includes('<script>'));
    assert.match(html, /&lt;script&gt;/);
    assert.ok(!/src=|href=|@import|url\(/.test(html), 'no external resource');
    assert.match(html, /<svg role="img" aria-label="Intents ranked"/);
  });

  it('has helpers that behave at the edges', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
    assert.equal(formatDuration(null), '–');
    assert.equal(formatDuration(3900), '1h 05m');
    assert.equal(dayIn('2026-11-21T23:30:00Z', 'UTC'), '2026-11-21');
  });
});
