/**
 * The conversation list of the analyst report (`report --format json`), read from the history and
 * classification tables. Read-only: this module never writes. The JSON keys are a contract (issue 5 §8):
 * add keys, never rename them.
 */
import type Database from 'better-sqlite3';
import type { Channel } from '../db/schema/history.ts';
import type { ReportConversation } from './summary.ts';

export interface ConversationQuery {
  /** Only conversations with a message at or after this time (epoch ms). */
  since?: number;
  channel?: Channel;
}

export interface ConversationReport {
  generated_at: string;
  conversations: ReportConversation[];
}

type Row = Record<string, unknown>;

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

function parseKeywords(raw: unknown): string[] | null {
  if (typeof raw !== 'string') return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
  } catch {
    // A malformed keywords cell is the classifier's bug; the report shows "no keywords" rather than failing.
    return null;
  }
}

/** Conversations (oldest first) with customer, metrics and, once classified, sentiment/intent/keywords/language. */
export function listConversations(db: Database.Database, q: ConversationQuery = {}): ReportConversation[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.since !== undefined) {
    where.push('c.last_message_at >= ?');
    params.push(q.since);
  }
  if (q.channel) {
    where.push('c.channel = ?');
    params.push(q.channel);
  }
  const rows = db
    .prepare(
      `select c.*, cu.phone, cu.mxid, cu.name, cc.sentiment_label, cc.sentiment_score, cc.intent_label, cc.intent_confidence,
        cc.keywords as cc_keywords, cc.language as cc_language,
        (select mc.intent_label from history_events e join message_classifications mc on mc.event_id = e.event_id
          where e.conversation_id = c.id and e.sender_role = 'customer' order by e.ts desc limit 1) as last_customer_intent
      from conversations c
      left join customers cu on cu.key = c.customer_key
      left join conversation_classifications cc on cc.conversation_id = c.id
      ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
      order by c.started_at, c.id`,
    )
    .all(...params) as Row[];
  return rows.map((r) => {
    const classified = r.sentiment_label !== null && r.sentiment_label !== undefined;
    return {
      id: r.id as string,
      room_id: r.room_id as string,
      channel: r.channel as Channel,
      customer: {
        key: (r.customer_key as string | null) ?? null,
        phone: (r.phone as string | null) ?? null,
        mxid: (r.mxid as string | null) ?? null,
        name: (r.name as string | null) ?? null,
      },
      started_at: iso(r.started_at),
      last_message_at: iso(r.last_message_at),
      message_count: r.message_count as number,
      customer_message_count: r.customer_message_count as number,
      agent_message_count: r.agent_message_count as number,
      first_response_seconds: (r.first_response_seconds as number | null) ?? null,
      resolution_seconds: (r.resolution_seconds as number | null) ?? null,
      status: r.status as ReportConversation['status'],
      agents: JSON.parse(r.agents as string) as string[],
      encrypted: r.encrypted === 1,
      sentiment: classified
        ? { label: r.sentiment_label as 'positive' | 'neutral' | 'negative', score: r.sentiment_score as number }
        : null,
      intent: classified ? { label: r.intent_label as string, confidence: r.intent_confidence as number } : null,
      keywords: classified ? parseKeywords(r.cc_keywords) : null,
      language: classified ? ((r.cc_language as string | null) ?? null) : null,
      last_customer_intent: (r.last_customer_intent as string | null) ?? null,
    };
  });
}

/** The JSON report: exactly the contract's keys (the summary-only `last_customer_intent` is left out). */
export function conversationReport(db: Database.Database, q: ConversationQuery, now: number): ConversationReport {
  return {
    generated_at: iso(now),
    conversations: listConversations(db, q).map(({ last_customer_intent: _omit, ...c }) => c),
  };
}
