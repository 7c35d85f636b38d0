/**
 * The support lead's summary, computed from the conversation list of the JSON report (pure: no database,
 * no clock). Days are calendar days in the report's IANA time zone.
 */

/** One conversation as in `report --format json` (keys kept from the JSON contract). */
export interface ReportConversation {
  id: string;
  room_id: string;
  channel: 'whatsapp' | 'wazo' | 'matrix';
  customer: { key: string | null; phone: string | null; mxid: string | null; name: string | null };
  started_at: string;
  last_message_at: string;
  message_count: number;
  customer_message_count: number;
  agent_message_count: number;
  first_response_seconds: number | null;
  resolution_seconds: number | null;
  status: 'OPEN' | 'WAITING_ON_CUSTOMER' | 'RESOLVED';
  agents: string[];
  encrypted: boolean;
  sentiment?: { label: 'positive' | 'neutral' | 'negative'; score: number } | null;
  intent?: { label: string; confidence: number } | null;
  keywords?: string[] | null;
  language?: string | null;
  /** Intent of the customer's latest message (`praise`/`greeting`: a closing thanks or goodbye). */
  last_customer_intent?: string | null;
}

export interface Durations {
  n: number;
  median: number | null;
  p90: number | null;
}

export interface ReportSummary {
  timezone: string;
  total: number;
  byChannel: Record<string, Record<'OPEN' | 'WAITING_ON_CUSTOMER' | 'RESOLVED', number>>;
  sentiment: { positive: number; neutral: number; negative: number; unclassified: number };
  sentimentByDay: { day: string; positive: number; neutral: number; negative: number; meanScore: number | null }[];
  intents: { label: string; count: number }[];
  keywords: { keyword: string; count: number }[];
  responseByChannel: Record<string, { firstResponse: Durations; resolution: Durations }>;
  responseByAgent: Record<string, { firstResponse: Durations; resolution: Durations; conversations: number }>;
  unanswered: { id: string; channel: string; customer: string; waitingSince: string }[];
  mostNegative: {
    customer: string;
    channel: string;
    conversations: number;
    meanScore: number;
    worstIntent: string | null;
  }[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function durations(values: (number | null)[]): Durations {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return { n: v.length, median: percentile(v, 50), p90: percentile(v, 90) };
}

/** `YYYY-MM-DD` of an instant in a time zone. */
export function dayIn(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function customerLabel(c: ReportConversation['customer']): string {
  return c.name ?? c.phone ?? c.mxid ?? c.key ?? 'unknown customer';
}

/** Builds the summary. `now` decides which conversations are "unanswered" (waiting longer than `unansweredAfterMs`). */
export function summarize(
  conversations: ReportConversation[],
  opts: { timezone: string; now: number; unansweredAfterMs: number; top?: number },
): ReportSummary {
  const top = opts.top ?? 10;
  const byChannel: ReportSummary['byChannel'] = {};
  const sentiment = { positive: 0, neutral: 0, negative: 0, unclassified: 0 };
  const days = new Map<string, { positive: number; neutral: number; negative: number; sum: number; n: number }>();
  const intents = new Map<string, number>();
  const keywords = new Map<string, number>();
  const perChannel = new Map<string, { fr: (number | null)[]; res: (number | null)[] }>();
  const perAgent = new Map<string, { fr: (number | null)[]; res: (number | null)[]; n: number }>();
  const perCustomer = new Map<
    string,
    { channel: string; scores: number[]; intents: string[]; conversations: number }
  >();
  const unanswered: ReportSummary['unanswered'] = [];

  for (const c of conversations) {
    byChannel[c.channel] ??= { OPEN: 0, WAITING_ON_CUSTOMER: 0, RESOLVED: 0 };
    byChannel[c.channel][c.status]++;
    const day = dayIn(c.started_at, opts.timezone);
    const d = days.get(day) ?? { positive: 0, neutral: 0, negative: 0, sum: 0, n: 0 };
    days.set(day, d);
    if (c.sentiment) {
      sentiment[c.sentiment.label]++;
      d[c.sentiment.label]++;
      d.sum += c.sentiment.score;
      d.n++;
    } else sentiment.unclassified++;
    if (c.intent) intents.set(c.intent.label, (intents.get(c.intent.label) ?? 0) + 1);
    for (const k of c.keywords ?? []) keywords.set(k, (keywords.get(k) ?? 0) + 1);
    const ch = perChannel.get(c.channel) ?? { fr: [], res: [] };
    perChannel.set(c.channel, ch);
    ch.fr.push(c.first_response_seconds);
    ch.res.push(c.resolution_seconds);
    for (const a of c.agents) {
      const ag = perAgent.get(a) ?? { fr: [], res: [], n: 0 };
      perAgent.set(a, ag);
      ag.fr.push(c.first_response_seconds);
      ag.res.push(c.resolution_seconds);
      ag.n++;
    }
    const label = customerLabel(c.customer);
    const cu = perCustomer.get(label) ?? { channel: c.channel, scores: [], intents: [], conversations: 0 };
    perCustomer.set(label, cu);
    cu.conversations++;
    if (cu.channel !== c.channel) cu.channel = 'several';
    if (c.sentiment) cu.scores.push(c.sentiment.score);
    if (c.intent) cu.intents.push(c.intent.label);
    const waiting = opts.now - Date.parse(c.last_message_at);
    const closing = c.last_customer_intent === 'praise' || c.last_customer_intent === 'greeting';
    if (c.status === 'OPEN' && !closing && c.customer_message_count > 0 && waiting >= opts.unansweredAfterMs) {
      unanswered.push({ id: c.id, channel: c.channel, customer: label, waitingSince: c.last_message_at });
    }
  }

  const ranked = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const mostNegative = [...perCustomer.entries()]
    .filter(([, v]) => v.scores.length > 0)
    .map(([customer, v]) => ({
      customer,
      channel: v.channel,
      conversations: v.conversations,
      meanScore: v.scores.reduce((s, x) => s + x, 0) / v.scores.length,
      worstIntent:
        v.intents.find((i) => ['complaint', 'cancellation', 'billing', 'technical'].includes(i)) ??
        v.intents[0] ??
        null,
    }))
    .filter((v) => v.meanScore < 0)
    .sort((a, b) => a.meanScore - b.meanScore)
    .slice(0, top);

  return {
    timezone: opts.timezone,
    total: conversations.length,
    byChannel,
    sentiment,
    sentimentByDay: [...days.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([day, v]) => ({
        day,
        positive: v.positive,
        neutral: v.neutral,
        negative: v.negative,
        meanScore: v.n > 0 ? v.sum / v.n : null,
      })),
    intents: ranked(intents).map(([label, count]) => ({ label, count })),
    keywords: ranked(keywords)
      .slice(0, top * 2)
      .map(([keyword, count]) => ({ keyword, count })),
    responseByChannel: Object.fromEntries(
      [...perChannel.entries()].map(([k, v]) => [k, { firstResponse: durations(v.fr), resolution: durations(v.res) }]),
    ),
    responseByAgent: Object.fromEntries(
      [...perAgent.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([k, v]) => [k, { firstResponse: durations(v.fr), resolution: durations(v.res), conversations: v.n }]),
    ),
    unanswered: unanswered.sort((a, b) => a.waitingSince.localeCompare(b.waitingSince)),
    mostNegative,
  };
}

/** `1h 05m`, `12m`, `45s`; `–` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
