/**
 * Erases one customer from the history tables (right to erasure): the customer row, the rooms where they
 * are the customer (events, edits, reactions, redactions, memberships, participants, conversations), and in
 * shared rooms (groups) the text of their own messages. Room rows and cursors stay, so the next sync does not
 * re-import the erased history; it stores only what is said after the erasure.
 * Classification and CRM rows belong to their own stages: their `forget` runs beside this one.
 */
import type Database from 'better-sqlite3';

export interface ForgetCounts {
  customers: number;
  rooms: number;
  events: number;
  conversations: number;
  /** Conversation ids removed, so the other stages can drop their rows for them. */
  conversationIds: string[];
}

export function forgetCustomerHistory(db: Database.Database, key: string): ForgetCounts {
  return db.transaction(() => {
    const rooms = (
      db.prepare('select room_id from history_rooms where customer_key = ?').all(key) as { room_id: string }[]
    ).map((r) => r.room_id);
    const out: ForgetCounts = { customers: 0, rooms: rooms.length, events: 0, conversations: 0, conversationIds: [] };
    for (const roomId of rooms) {
      const ids = db.prepare('select id from conversations where room_id = ?').all(roomId) as { id: string }[];
      out.conversationIds.push(...ids.map((r) => r.id));
      out.conversations += db.prepare('delete from conversations where room_id = ?').run(roomId).changes;
      out.events += db.prepare('delete from history_events where room_id = ?').run(roomId).changes;
      for (const t of [
        'history_edits',
        'history_reactions',
        'history_redactions',
        'history_memberships',
        'history_participants',
      ]) {
        db.prepare(`delete from ${t} where room_id = ?`).run(roomId);
      }
      db.prepare('update history_rooms set customer_key = null, name = null where room_id = ?').run(roomId);
    }
    // Shared rooms: remove the text of this customer's messages and their link to the customer.
    const senders = db.prepare('select room_id, user_id from history_participants where customer_key = ?').all(key) as {
      room_id: string;
      user_id: string;
    }[];
    for (const s of senders) {
      out.events += db
        .prepare(
          `update history_events set body = null, formatted_body = null, original_body = null, original_formatted_body = null
          where room_id = ? and sender = ?`,
        )
        .run(s.room_id, s.user_id).changes;
      db.prepare('update history_edits set body = null, formatted_body = null where room_id = ? and sender = ?').run(
        s.room_id,
        s.user_id,
      );
      db.prepare(
        'update history_participants set customer_key = null, display_name = null where room_id = ? and user_id = ?',
      ).run(s.room_id, s.user_id);
    }
    const conv = db.prepare('select id from conversations where customer_key = ?').all(key) as { id: string }[];
    out.conversationIds.push(...conv.map((r) => r.id));
    db.prepare('update conversations set customer_key = null where customer_key = ?').run(key);
    out.customers = db.prepare('delete from customers where key = ?').run(key).changes;
    return out;
  })();
}
