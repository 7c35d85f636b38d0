/**
 * Owner: the Wazo connector (src/wazo/cursor-store.ts). How far the connector has read each Wazo feed, so
 * that a restart or a websocket reconnect backfills from chatd history what was missed, and no more.
 */
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const wazoCursors = sqliteTable('wazo_cursors', {
  /** `events` = the latest chatd `created_at` queued from any feed. */
  name: text('name').primaryKey(),
  /** chatd `created_at` (ISO 8601 with microseconds), the value passed back as `from_date`. */
  createdAt: text('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Webhook events accepted (answered 2xx) but not yet handed to the core because they wait in the reorder
 * window. Written before the answer, deleted once the core has queued the message, replayed at start.
 */
export const wazoInbox = sqliteTable('wazo_inbox', {
  /** chatd message uuid. */
  uuid: text('uuid').primaryKey(),
  /** The validated message object (JSON). */
  payload: text('payload').notNull(),
  receivedAt: integer('received_at').notNull(),
});
