/**
 * Durable holding area for webhook messages: webhookd gets its 2xx as soon as the message is written here,
 * not after the reorder window, so slow acknowledgements never throttle its few workers. Rows leave once the
 * core has queued the message; rows left by a crash are replayed at start. Repository of `wazo_inbox`.
 */
import { type DatabaseHandle, groupCommit } from '../db/index.ts';
import { messageSchema, type WazoMessage } from './schemas.ts';

export interface InboxStore {
  put(msg: WazoMessage): void;
  remove(uuid: string): void;
  /** Every message still waiting, oldest first. Rows that no longer parse are dropped. */
  pending(): WazoMessage[];
  /** Resolves once the rows put so far are stored durably (before acknowledging webhookd). */
  durable(): Promise<void>;
}

export function memoryInbox(): InboxStore {
  const rows = new Map<string, WazoMessage>();
  return {
    put: (m) => void rows.set(m.uuid.toLowerCase(), m),
    remove: (u) => void rows.delete(u),
    pending: () => [...rows.values()],
    durable: () => Promise.resolve(),
  };
}

export function sqliteInbox(handle: DatabaseHandle, now: () => number): InboxStore {
  const ins = handle.sqlite.prepare('insert or ignore into wazo_inbox (uuid, payload, received_at) values (?, ?, ?)');
  const del = handle.sqlite.prepare('delete from wazo_inbox where uuid = ?');
  const all = handle.sqlite.prepare('select uuid, payload from wazo_inbox order by received_at, uuid');
  // Rows join the connection's group commit (src/db/group-commit.ts); `durable` waits for it.
  const group = groupCommit(handle.sqlite);
  return {
    put: (m) => void group.batch(() => ins.run(m.uuid.toLowerCase(), JSON.stringify(m), now())),
    remove: (u) => void group.batch(() => del.run(u)),
    durable: () => group.durable(),
    pending() {
      const out: WazoMessage[] = [];
      for (const row of all.all() as { uuid: string; payload: string }[]) {
        const parsed = messageSchema.safeParse(JSON.parse(row.payload));
        if (parsed.success) out.push(parsed.data);
        // A row that no longer validates (schema change) can never be delivered: drop it.
        else del.run(row.uuid);
      }
      return out;
    },
  };
}
