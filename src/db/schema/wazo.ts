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
