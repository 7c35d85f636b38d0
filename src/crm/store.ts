/**
 * Repository of the export stage: reads what sync and classify stored (read-only) and reads/writes our
 * own `crm_links` and `crm_state` tables.
 */
import { and, asc, desc, eq, inArray, isNotNull } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/index.ts';
import { tables } from '../db/index.ts';
import type { CrmLinkKind } from '../db/schema/crm.ts';
import type { ConversationInput, CustomerRow } from './mapping.ts';

const { conversations, conversationClassifications, customers, historyEvents, crmLinks, crmState } = tables;

export interface LinkRow {
  kind: CrmLinkKind;
  localKey: string;
  twentyId: string;
  contentHash: string;
  status: 'ok' | 'linked' | 'failed';
  error: string | null;
  matchEmail: string | null;
  matchPhone: string | null;
  state: string | null;
  exportedAt: number;
}

/**
 * Classified conversations with their metrics and classification. Conversations not yet classified are
 * not exported: analysts filter on sentiment and intent, so a record without them would be noise; they
 * go out on the first run after classify has handled them.
 */
export function loadClassifiedConversations(
  handle: DatabaseHandle,
  opts: { excerptLines: number },
): ConversationInput[] {
  const rows = handle.db
    .select({ c: conversations, k: conversationClassifications, name: customers.name })
    .from(conversations)
    .innerJoin(conversationClassifications, eq(conversationClassifications.conversationId, conversations.id))
    .leftJoin(customers, eq(customers.key, conversations.customerKey))
    .orderBy(asc(conversations.startedAt), asc(conversations.id))
    .all();
  const excerptOf = (id: string): string[] => {
    if (opts.excerptLines <= 0) return [];
    return handle.db
      .select({ body: historyEvents.body })
      .from(historyEvents)
      .where(
        and(
          eq(historyEvents.conversationId, id),
          eq(historyEvents.senderRole, 'customer'),
          isNotNull(historyEvents.body),
        ),
      )
      .orderBy(desc(historyEvents.ts))
      .limit(opts.excerptLines)
      .all()
      .map((r) => r.body as string)
      .reverse();
  };
  // The intent of the customer's latest message: a closing "thanks!" or "bye" needs no answer.
  const lastIntentStmt = handle.sqlite.prepare(
    `select mc.intent_label as intent from history_events e join message_classifications mc on mc.event_id = e.event_id
      where e.conversation_id = ? and e.sender_role = 'customer' order by e.ts desc limit 1`,
  );
  const lastCustomerIntent = (id: string) => (lastIntentStmt.get(id) as { intent: string } | undefined)?.intent ?? null;
  return rows.map(({ c, k, name }) => ({
    id: c.id,
    roomId: c.roomId,
    channel: c.channel,
    customerKey: c.customerKey,
    customerName: name,
    startedAt: c.startedAt,
    lastMessageAt: c.lastMessageAt,
    messageCount: c.messageCount,
    customerMessageCount: c.customerMessageCount,
    agentMessageCount: c.agentMessageCount,
    firstResponseSeconds: c.firstResponseSeconds,
    resolutionSeconds: c.resolutionSeconds,
    status: c.status,
    agents: parseStringArray(c.agents),
    sentimentLabel: k.sentimentLabel,
    sentimentScore: k.sentimentScore,
    intentLabel: k.intentLabel,
    intents: parseStringArray(k.intents),
    keywords: parseStringArray(k.keywords),
    language: k.language,
    excerpt: excerptOf(c.id),
    lastCustomerIntent: lastCustomerIntent(c.id),
  }));
}

function parseStringArray(text: string | null): string[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    // A malformed JSON column written by another stage: treat as empty rather than failing the export.
    return [];
  }
}

export function loadCustomers(handle: DatabaseHandle, keys: string[]): Map<string, CustomerRow> {
  const out = new Map<string, CustomerRow>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = handle.db
      .select()
      .from(customers)
      .where(inArray(customers.key, keys.slice(i, i + 500)))
      .all();
    for (const r of rows)
      out.set(r.key, { key: r.key, channel: r.channel, phone: r.phone, mxid: r.mxid, name: r.name, email: r.email });
  }
  return out;
}

export function loadLinks(handle: DatabaseHandle, kind: CrmLinkKind): Map<string, LinkRow> {
  const rows = handle.db.select().from(crmLinks).where(eq(crmLinks.kind, kind)).all() as LinkRow[];
  return new Map(rows.map((r) => [r.localKey, r]));
}

/** Writes links in one short transaction (after the Twenty call returned, never around it). */
export function saveLinks(handle: DatabaseHandle, rows: LinkRow[]): void {
  if (rows.length === 0) return;
  handle.db.transaction((tx) => {
    for (const r of rows) {
      tx.insert(crmLinks)
        .values(r)
        .onConflictDoUpdate({
          target: [crmLinks.kind, crmLinks.localKey],
          set: {
            twentyId: r.twentyId,
            contentHash: r.contentHash,
            status: r.status,
            error: r.error,
            matchEmail: r.matchEmail,
            matchPhone: r.matchPhone,
            state: r.state,
            exportedAt: r.exportedAt,
          },
        })
        .run();
    }
  });
}

export function getState<T>(handle: DatabaseHandle, key: string): T | undefined {
  const row = handle.db.select().from(crmState).where(eq(crmState.key, key)).get();
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export function setState(handle: DatabaseHandle, key: string, value: unknown, now: number): void {
  handle.db
    .insert(crmState)
    .values({ key, value: JSON.stringify(value), updatedAt: now })
    .onConflictDoUpdate({ target: crmState.key, set: { value: JSON.stringify(value), updatedAt: now } })
    .run();
}

export function deleteState(handle: DatabaseHandle, key: string): void {
  handle.db.delete(crmState).where(eq(crmState.key, key)).run();
}
