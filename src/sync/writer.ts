/**
 * Write batching shared by the room workers of one run. Pages of any room are queued with the cursor they
 * lead to, and written in one transaction once ~`batchEvents` events are queued (or on `flush()`).
 * Each room's events and its cursor are always in the same transaction, so a kill -9 at any point leaves
 * every room either before or after a batch, never in between; unwritten pages are fetched again.
 * Why batch across rooms: event ids are random, so every insert dirties a random page of the primary-key
 * index; committing ~10,000 events at once writes each such page to the WAL once instead of once per room.
 */
import { type BatchEntry, emptyCounts, type HistoryStore, type PageCounts } from './store.ts';

export class HistoryWriter {
  readonly #store: HistoryStore;
  readonly #batchEvents: number;
  readonly #now: () => number;
  #queue: BatchEntry[] = [];
  #queued = 0;
  /** Counts of what was written, per room. */
  readonly written = new Map<string, PageCounts>();

  constructor(store: HistoryStore, opts: { batchEvents: number; now: () => number }) {
    this.#store = store;
    this.#batchEvents = opts.batchEvents;
    this.#now = opts.now;
  }

  /** Queues one room's pages (the cursor is copied); writes the batch when it is big enough. */
  add(entry: BatchEntry): void {
    this.#queue.push({ ...entry, cursor: { ...entry.cursor } });
    this.#queued += entry.events.length;
    if (this.#queued >= this.#batchEvents) this.flush();
  }

  /** Writes everything queued, in one transaction. */
  flush(): void {
    if (this.#queue.length === 0) return;
    const entries = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    const counts = this.#store.applyBatch(entries, this.#now());
    entries.forEach((e, i) => {
      const total = this.written.get(e.roomId) ?? emptyCounts();
      const c = counts[i]!;
      for (const k of Object.keys(total) as (keyof PageCounts)[]) total[k] += c[k];
      this.written.set(e.roomId, total);
    });
  }
}
