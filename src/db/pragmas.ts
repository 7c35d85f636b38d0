/** Connection settings shared by every opener of the database (kept free of the ORM, for light processes). */
import type Database from 'better-sqlite3';

/** WAL, foreign keys, busy timeout and a larger page cache. */
export function tuneConnection(sqlite: Database.Database, path: string, readonly = false): void {
  if (path !== ':memory:' && !readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // A larger page cache (32 MiB): hot lookups (outbox, message map, history keys) stay in memory. No mmap:
  // mapped pages would count in the RSS of long syncs.
  sqlite.pragma('cache_size = -32768');
}
