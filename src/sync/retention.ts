/**
 * `[sync] retention_days`: message text older than the cutoff is removed on every run. Rows, timestamps,
 * roles, conversation metrics and classifications stay; only the customers' words go.
 */
import type Database from 'better-sqlite3';

/** Clears the text of events and edits older than `cutoff` (epoch ms); returns the number of rows cleared. */
export function applyRetention(db: Database.Database, cutoff: number): number {
  return db.transaction(() => {
    const a = db
      .prepare(
        `update history_events set body = null, formatted_body = null, original_body = null, original_formatted_body = null
        where ts < ? and (body is not null or formatted_body is not null or original_body is not null)`,
      )
      .run(cutoff).changes;
    const b = db
      .prepare(
        'update history_edits set body = null, formatted_body = null where ts < ? and (body is not null or formatted_body is not null)',
      )
      .run(cutoff).changes;
    return a + b;
  })();
}
