/**
 * Repository of the classification tables (written only here) and the reads of the sync stage's history tables
 * that classify needs. Synchronous (better-sqlite3); callers wrap writes in one transaction per batch.
 */
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/index.ts';
import { conversationClassifications, messageClassifications } from '../db/schema/classification.ts';

export interface PendingMessage {
  eventId: string;
  roomId: string;
  senderRole: 'customer' | 'staff';
  body: string;
  ts: number;
}

export interface MessageCursor {
  ts: number;
  eventId: string;
}

/**
 * Next batch of text messages from customers or staff, after `cursor` in (ts, event_id) order, that have no
 * classification for `version` (or whose text was edited since) — or all of them when `all` is set.
 */
export function pendingMessages(
  h: DatabaseHandle,
  version: string,
  cursor: MessageCursor | undefined,
  limit: number,
  all: boolean,
): PendingMessage[] {
  return h.sqlite
    .prepare(
      `SELECT e.event_id AS eventId, e.room_id AS roomId, e.sender_role AS senderRole, e.body AS body, e.ts AS ts
         FROM history_events e
         LEFT JOIN message_classifications c ON c.event_id = e.event_id
        WHERE e.type = 'm.room.message' AND e.body IS NOT NULL AND e.sender_role IN ('customer', 'staff')
          AND (e.ts > @ts OR (e.ts = @ts AND e.event_id > @eventId))
          AND (@all = 1 OR c.event_id IS NULL OR c.model_version <> @version
               OR (e.edited_at IS NOT NULL AND e.edited_at > c.classified_at))
        ORDER BY e.ts, e.event_id
        LIMIT @limit`,
    )
    .all({
      ts: cursor?.ts ?? -1,
      eventId: cursor?.eventId ?? '',
      all: all ? 1 : 0,
      version,
      limit,
    }) as PendingMessage[];
}

/** Removes classifications of messages whose text is gone (redacted or past retention): no text, no derived data. */
export function deleteOrphanMessageClassifications(h: DatabaseHandle): number {
  return h.sqlite
    .prepare(
      `DELETE FROM message_classifications WHERE event_id IN (
         SELECT c.event_id FROM message_classifications c
           LEFT JOIN history_events e ON e.event_id = c.event_id
          WHERE e.event_id IS NULL OR e.body IS NULL)`,
    )
    .run().changes;
}

/** Deletes conversation classifications whose conversation no longer exists (after `forget`). */
export function deleteOrphanConversationClassifications(h: DatabaseHandle): number {
  return h.sqlite
    .prepare(`DELETE FROM conversation_classifications WHERE conversation_id NOT IN (SELECT id FROM conversations)`)
    .run().changes;
}

/**
 * Drops the classifications left without their source after the history stage erased a customer: messages
 * that are gone or whose text was removed, and conversations that are gone. Returns rows deleted per table.
 */
export function forgetOrphanClassifications(h: DatabaseHandle): Record<string, number> {
  return h.sqlite.transaction(() => ({
    message_classifications: deleteOrphanMessageClassifications(h),
    conversation_classifications: deleteOrphanConversationClassifications(h),
    conversation_terms: deleteOrphanConversationTerms(h),
  }))();
}

/** Most frequent classified language per room (current model version), for short texts. */
export function roomLanguages(h: DatabaseHandle, version: string): Map<string, string> {
  const rows = h.sqlite
    .prepare(
      `SELECT e.room_id AS roomId, c.language AS language, COUNT(*) AS n
         FROM message_classifications c JOIN history_events e ON e.event_id = c.event_id
        WHERE c.model_version = ? AND c.language_unsupported = 0
        GROUP BY e.room_id, c.language
        ORDER BY e.room_id, n DESC, c.language`,
    )
    .all(version) as { roomId: string; language: string }[];
  const out = new Map<string, string>();
  for (const r of rows) if (!out.has(r.roomId)) out.set(r.roomId, r.language);
  return out;
}

export type MessageClassificationRow = typeof messageClassifications.$inferInsert;
export type ConversationClassificationRow = typeof conversationClassifications.$inferInsert;

export function upsertMessageClassification(h: DatabaseHandle, row: MessageClassificationRow): void {
  const { eventId: _id, ...rest } = row;
  h.db
    .insert(messageClassifications)
    .values(row)
    .onConflictDoUpdate({ target: messageClassifications.eventId, set: rest })
    .run();
}

export function upsertConversationClassification(h: DatabaseHandle, row: ConversationClassificationRow): void {
  const { conversationId: _id, ...rest } = row;
  h.db
    .insert(conversationClassifications)
    .values(row)
    .onConflictDoUpdate({ target: conversationClassifications.conversationId, set: rest })
    .run();
}

export interface PendingConversation {
  id: string;
  roomId: string;
  revision: number;
}

/** Next batch of conversations (by id, after `afterId`) whose classification is missing or stale. */
export function pendingConversations(
  h: DatabaseHandle,
  version: string,
  afterId: string,
  limit: number,
  all: boolean,
): PendingConversation[] {
  return h.sqlite
    .prepare(
      `SELECT v.id AS id, v.room_id AS roomId, v.revision AS revision
         FROM conversations v
         LEFT JOIN conversation_classifications c ON c.conversation_id = v.id
        WHERE v.id > @afterId
          AND (@all = 1 OR c.conversation_id IS NULL OR c.model_version <> @version OR c.conversation_revision <> v.revision)
        ORDER BY v.id
        LIMIT @limit`,
    )
    .all({ afterId, all: all ? 1 : 0, version, limit }) as PendingConversation[];
}

export interface ConversationMessage {
  eventId: string;
  senderRole: 'customer' | 'staff';
  body: string;
  language: string | null;
  sentimentScore: number | null;
  intentLabel: string | null;
  intentConfidence: number | null;
}

/** Text messages of a conversation in time order, with their classification for `version` when present. */
export function conversationMessages(
  h: DatabaseHandle,
  conversationId: string,
  version: string,
): ConversationMessage[] {
  return h.sqlite
    .prepare(
      `SELECT e.event_id AS eventId, e.sender_role AS senderRole, e.body AS body, c.language AS language,
              c.sentiment_score AS sentimentScore, c.intent_label AS intentLabel, c.intent_confidence AS intentConfidence
         FROM history_events e
         LEFT JOIN message_classifications c ON c.event_id = e.event_id AND c.model_version = @version
        WHERE e.conversation_id = @conversationId AND e.type = 'm.room.message' AND e.body IS NOT NULL
          AND e.sender_role IN ('customer', 'staff')
        ORDER BY e.ts, e.event_id`,
    )
    .all({ conversationId, version }) as ConversationMessage[];
}

/** Count of rows per table, for tests and summaries. */
export function classificationCounts(h: DatabaseHandle): { messages: number; conversations: number } {
  const m = h.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM message_classifications`);
  const c = h.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM conversation_classifications`);
  return { messages: m.n, conversations: c.n };
}

/** Replaces the stem set of a conversation (its document in the keyword corpus). */
export function upsertConversationTerms(h: DatabaseHandle, conversationId: string, stems: readonly string[]): void {
  h.sqlite
    .prepare(
      `INSERT INTO conversation_terms (conversation_id, stems) VALUES (?, ?)
       ON CONFLICT (conversation_id) DO UPDATE SET stems = excluded.stems`,
    )
    .run(conversationId, JSON.stringify(stems));
}

/** Drops the documents of conversations that no longer exist. */
export function deleteOrphanConversationTerms(h: DatabaseHandle): number {
  return h.sqlite
    .prepare('DELETE FROM conversation_terms WHERE conversation_id NOT IN (SELECT id FROM conversations)')
    .run().changes;
}

/** Document frequency of every stem over the stored conversations, and their number. */
export function corpusDocumentFrequencies(h: DatabaseHandle): { n: number; df: Map<string, number> } {
  const df = new Map<string, number>();
  let n = 0;
  for (const row of h.sqlite.prepare('SELECT stems FROM conversation_terms').iterate() as Iterable<{ stems: string }>) {
    n++;
    for (const s of JSON.parse(row.stems) as string[]) df.set(s, (df.get(s) ?? 0) + 1);
  }
  return { n, df };
}
