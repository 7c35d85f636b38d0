/** Repository of the `wazo_cursors` table (owner: this connector). */
import type { DatabaseHandle } from '../db/index.ts';
import { createdAtKey } from './reorder.ts';

export interface CursorStore {
  /** The latest chatd `created_at` queued so far, if any. */
  get(): string | undefined;
  /** Moves the cursor forward (never back). */
  advance(createdAt: string): void;
  /** Writes a pending value now (shutdown). */
  flush?(): void;
}

/** In-memory cursor (tests, and a fallback when no database is given). */
export function memoryCursor(): CursorStore {
  let cur: string | undefined;
  return {
    get: () => cur,
    advance(v) {
      if (cur === undefined || createdAtKey(v) > createdAtKey(cur)) cur = v;
    },
  };
}

/** Cursor persisted in `wazo_cursors`, written at most once per `flushMs` (and on each call to `flush`). */
export function sqliteCursor(
  handle: DatabaseHandle,
  now: () => number,
  name = 'events',
): CursorStore & { flush(): void } {
  const read = handle.sqlite.prepare('select created_at as createdAt from wazo_cursors where name = ?');
  const write = handle.sqlite.prepare(
    'insert into wazo_cursors (name, created_at, updated_at) values (?, ?, ?) on conflict(name) do update set created_at = excluded.created_at, updated_at = excluded.updated_at',
  );
  const row = read.get(name) as { createdAt: string } | undefined;
  let cur = row?.createdAt;
  let dirty = false;
  let lastWrite = 0;
  const flush = () => {
    if (!dirty || cur === undefined) return;
    write.run(name, cur, now());
    dirty = false;
    lastWrite = now();
  };
  return {
    get: () => cur,
    advance(v) {
      if (cur !== undefined && createdAtKey(v) <= createdAtKey(cur)) return;
      cur = v;
      dirty = true;
      if (now() - lastWrite >= 1000) flush();
    },
    flush,
  };
}
