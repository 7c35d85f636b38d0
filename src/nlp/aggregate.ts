/**
 * Conversation-level aggregation of message classifications: recency-weighted customer sentiment with its
 * trend, the dominant customer intent (first message weighted up), keywords, language and agent tone. Pure.
 */
import type { SentimentLabel } from './pipeline.ts';
import { mostFrequent } from './pipeline.ts';

export interface AggregateMessage {
  role: 'customer' | 'staff';
  language: string;
  sentimentScore: number;
  intentLabel: string;
  intentConfidence: number;
  /** [stem, surface] content words of the message. */
  terms: readonly [string, string][];
}

export interface ConversationAggregate {
  sentimentLabel: SentimentLabel;
  sentimentScore: number;
  sentimentTrend: number | null;
  intentLabel: string;
  intentConfidence: number;
  intents: string[];
  keywords: string[];
  language: string;
  agentSentimentScore: number | null;
}

/** |score| below this is neutral. */
export const NEUTRAL_BAND = 0.2;
/** The first customer message usually states the reason for contact. */
export const FIRST_MESSAGE_WEIGHT = 2;
const MAX_KEYWORDS = 8;
const WEAK_INTENTS: ReadonlySet<string> = new Set(['greeting', 'other']);

/**
 * @param messages the conversation's classified messages in time order.
 * @param idf inverse document frequency of a stem in the reference corpus.
 * @param fallbackLanguage used when no message has a language.
 */
export function aggregateConversation(
  messages: readonly AggregateMessage[],
  idf: (stem: string) => number,
  fallbackLanguage: string,
): ConversationAggregate {
  const customer = messages.filter((m) => m.role === 'customer');
  const staff = messages.filter((m) => m.role === 'staff');
  const scores = customer.map((m) => m.sentimentScore);
  // Weight i+1 for the i-th customer message: the end of a conversation says how it went.
  let wsum = 0;
  let acc = 0;
  scores.forEach((s, i) => {
    wsum += i + 1;
    acc += (i + 1) * s;
  });
  const sentimentScore = wsum > 0 ? round3(acc / wsum) : 0;
  const half = Math.floor(scores.length / 2);
  const sentimentTrend =
    scores.length >= 2 ? round3(mean(scores.slice(scores.length - half)) - mean(scores.slice(0, half))) : null;

  const weights = new Map<string, number>();
  const counts = new Map<string, number>();
  customer.forEach((m, i) => {
    const w = m.intentConfidence * (i === 0 ? FIRST_MESSAGE_WEIGHT : 1);
    weights.set(m.intentLabel, (weights.get(m.intentLabel) ?? 0) + w);
    counts.set(m.intentLabel, (counts.get(m.intentLabel) ?? 0) + 1);
  });
  const strong = [...weights.entries()].filter(([l]) => !WEAK_INTENTS.has(l));
  const candidates = strong.length > 0 ? strong : [...weights.entries()];
  candidates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = candidates.reduce((a, [, w]) => a + w, 0);
  const [intentLabel, intentWeight] = candidates[0] ?? ['other', 0];
  const intents = [...counts.entries()]
    .sort(
      (a, b) => b[1] - a[1] || (weights.get(b[0]) as number) - (weights.get(a[0]) as number) || (a[0] < b[0] ? -1 : 1),
    )
    .map(([l]) => l);

  return {
    sentimentLabel:
      sentimentScore >= NEUTRAL_BAND ? 'positive' : sentimentScore <= -NEUTRAL_BAND ? 'negative' : 'neutral',
    sentimentScore,
    sentimentTrend,
    intentLabel,
    intentConfidence: total > 0 ? round3(intentWeight / total) : 0,
    intents,
    keywords: topKeywords(customer.length > 0 ? customer : staff, idf),
    language: majority((customer.length > 0 ? customer : messages).map((m) => m.language)) ?? fallbackLanguage,
    agentSentimentScore: staff.length > 0 ? round3(mean(staff.map((m) => m.sentimentScore))) : null,
  };
}

/** Top TF-IDF terms, stems grouped, each shown in its most frequent surface form. */
export function topKeywords(
  messages: readonly Pick<AggregateMessage, 'terms'>[],
  idf: (stem: string) => number,
): string[] {
  const byStem = new Map<string, { tf: number; surface: Map<string, number> }>();
  for (const m of messages) {
    for (const [s, w] of m.terms) {
      let e = byStem.get(s);
      if (!e) {
        e = { tf: 0, surface: new Map() };
        byStem.set(s, e);
      }
      e.tf++;
      e.surface.set(w, (e.surface.get(w) ?? 0) + 1);
    }
  }
  return [...byStem.entries()]
    .map(([s, e]) => ({ score: (1 + Math.log(e.tf)) * idf(s), word: mostFrequent(e.surface) }))
    .sort((a, b) => b.score - a.score || (a.word < b.word ? -1 : 1))
    .slice(0, MAX_KEYWORDS)
    .map((e) => e.word);
}

/** Most frequent value; ties go to the one seen first. */
export function majority(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let n = 0;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}

function mean(xs: readonly number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
