import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AggregateMessage, aggregateConversation, topKeywords } from './aggregate.ts';

function msg(over: Partial<AggregateMessage>): AggregateMessage {
  return {
    role: 'customer',
    language: 'en',
    sentimentScore: 0,
    intentLabel: 'other',
    intentConfidence: 1,
    terms: [],
    ...over,
  };
}
const flatIdf = () => 1;

describe('aggregateConversation', () => {
  it('weights recent customer messages up and reports the trend (hand-checked)', () => {
    const a = aggregateConversation(
      [
        msg({ sentimentScore: -0.8, intentLabel: 'technical', intentConfidence: 0.9 }),
        msg({ role: 'staff', sentimentScore: 0.5 }),
        msg({ sentimentScore: -0.2, intentLabel: 'technical', intentConfidence: 0.6 }),
        msg({ sentimentScore: 0.9, intentLabel: 'praise', intentConfidence: 0.95 }),
      ],
      flatIdf,
      'en',
    );
    // (1×-0.8 + 2×-0.2 + 3×0.9) / 6 = 1.5 / 6 = 0.25
    assert.equal(a.sentimentScore, 0.25);
    assert.equal(a.sentimentLabel, 'positive');
    // 3 customer messages: first half [-0.8], second half [0.9] → 1.7
    assert.equal(a.sentimentTrend, 1.7);
    // technical: 0.9×2 + 0.6 = 2.4; praise: 0.95 → technical, 2.4 / 3.35
    assert.equal(a.intentLabel, 'technical');
    assert.equal(a.intentConfidence, 0.716);
    assert.deepEqual(a.intents, ['technical', 'praise']);
    assert.equal(a.agentSentimentScore, 0.5);
  });

  it('does not let a greeting win over a real intent, and weights the first message up', () => {
    const a = aggregateConversation(
      [
        msg({ intentLabel: 'greeting', intentConfidence: 0.99 }),
        msg({ intentLabel: 'billing', intentConfidence: 0.7 }),
        msg({ intentLabel: 'cancellation', intentConfidence: 0.8 }),
      ],
      flatIdf,
      'en',
    );
    assert.equal(a.intentLabel, 'cancellation');
    const b = aggregateConversation(
      [
        msg({ intentLabel: 'billing', intentConfidence: 0.6 }),
        msg({ intentLabel: 'cancellation', intentConfidence: 0.9 }),
      ],
      flatIdf,
      'en',
    );
    assert.equal(b.intentLabel, 'billing');
    assert.equal(b.sentimentTrend, 0);
  });

  it('handles a conversation where only staff spoke', () => {
    const a = aggregateConversation([msg({ role: 'staff', sentimentScore: -0.4, language: 'fr' })], flatIdf, 'en');
    assert.equal(a.sentimentLabel, 'neutral');
    assert.equal(a.sentimentScore, 0);
    assert.equal(a.sentimentTrend, null);
    assert.equal(a.intentLabel, 'other');
    assert.equal(a.intentConfidence, 0);
    assert.equal(a.language, 'fr');
    assert.equal(a.agentSentimentScore, -0.4);
  });

  it('keywords group stems, use the most frequent surface form and rank by tf-idf', () => {
    const idf = (s: string) => ({ router: 3, reboot: 2, light: 1 })[s] ?? 1;
    const k = topKeywords(
      [
        {
          terms: [
            ['router', 'router'],
            ['reboot', 'rebooting'],
            ['light', 'light'],
          ],
        },
        {
          terms: [
            ['reboot', 'reboots'],
            ['reboot', 'rebooting'],
            ['router', 'routers'],
          ],
        },
      ],
      idf,
    );
    // router: (1 + ln 2) × 3 = 5.08; reboot: (1 + ln 3) × 2 = 4.20; light: 1.
    assert.deepEqual(k, ['router', 'rebooting', 'light']);
  });
});
