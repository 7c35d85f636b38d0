/**
 * The delivery worker over the persistent outbox. Each queue key (a room) has at most one loop running,
 * which handles its rows strictly in insertion order; a row stays pending until its handler returns, so a
 * crash (even kill -9) leaves it to be handled again on the next start. Handlers are idempotent (message
 * map check, deterministic txnIds), which turns "at least once" into "exactly once" on the far side.
 * A retryable failure (network, 429, 5xx) blocks that room only, and is retried with capped backoff.
 */
import { RemoteApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Gauge, getOrCreate, Histogram, type Registry } from '../metrics.ts';
import type { BridgeStore, OutboxRow } from './store.ts';

export type Lane = 'matrix' | 'remote';

export interface OutboxOptions {
  store: BridgeStore;
  log: Logger;
  metrics: Registry;
  now: () => number;
  /** Waits between retries (injected by tests). */
  sleep: (ms: number) => Promise<void>;
  /** Handles one row. Throw a retryable RemoteApiError to retry later; any other error fails the row. */
  handle: (row: OutboxRow) => Promise<void>;
  /** Backoff cap between two attempts of one row. */
  maxBackoffMs?: number;
}

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #running = new Map<string, Promise<void>>();
  /** Keys kicked while their loop was running: the loop re-reads before it ends, so nothing is missed. */
  #stopped = false;
  readonly #latency: Histogram;

  constructor(o: OutboxOptions) {
    this.#o = o;
    const store = o.store;
    getOrCreate(
      o.metrics,
      'mcb_outbox_depth',
      () =>
        new Gauge({
          name: 'mcb_outbox_depth',
          help: 'Outbox rows waiting for delivery, by lane (matrix: from the homeserver; remote: to Matrix)',
          labelNames: ['lane'],
          registers: [o.metrics],
          collect() {
            const d = store.outboxDepth();
            this.set({ lane: 'matrix' }, d.matrix);
            this.set({ lane: 'remote' }, d.remote);
          },
        }),
    );
    this.#latency = getOrCreate(
      o.metrics,
      'mcb_outbox_delivery_seconds',
      () =>
        new Histogram({
          name: 'mcb_outbox_delivery_seconds',
          help: 'Time from outbox insert to successful delivery',
          labelNames: ['lane'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 300],
          registers: [o.metrics],
        }),
    );
  }

  /** Starts loops for every room that has pending rows (after a restart). */
  resume(): void {
    for (const key of this.#o.store.outboxPendingKeys()) this.kick(key);
  }

  /** Makes sure the room's loop runs and reads its pending rows from the database (after a restart, a retry). */
  kick(queueKey: string): void {
    this.#scan.add(queueKey);
    this.#start(queueKey);
  }

  /**
   * Hands a row this process has just inserted to its queue's loop, which then needs no read back from the
   * database. Call only after the insert's `batch()` returned (the loop still awaits its commit).
   */
  enqueue(row: OutboxRow): void {
    const q = this.#fresh.get(row.queueKey);
    if (q) q.push(row);
    else this.#fresh.set(row.queueKey, [row]);
    this.#start(row.queueKey);
  }

  #start(queueKey: string): void {
    if (this.#stopped) return;
    const running = this.#running.get(queueKey);
    if (running) {
      this.#pendingKick.add(queueKey);
      return;
    }
    const p = this.#loop(queueKey).finally(() => {
      this.#running.delete(queueKey);
      if (this.#pendingKick.delete(queueKey)) this.#start(queueKey);
    });
    this.#running.set(queueKey, p);
  }
  /** Queues whose pending rows may not all be in {@link #fresh}: their loop reads the database. */
  readonly #scan = new Set<string>();
  /** Rows inserted by this process and not yet taken by their loop, per queue, in insertion order. */
  readonly #fresh = new Map<string, OutboxRow[]>();
  readonly #pendingKick = new Set<string>();
  /** Last row handled per queue (done or failed), so rows awaiting their done commit are not re-read. */
  readonly #cursor = new Map<string, number>();
  readonly #done: OutboxRow[] = [];
  #flushing = false;

  /** Resolves when no loop is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
    this.flush();
  }

  /** Stops taking rows; in-flight handlers finish. Pending rows stay for the next start. */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true;
    // A handler stuck retrying a dead homeserver must not hold shutdown: its row stays pending for next time.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, graceMs).unref()))]);
    clearTimeout(timer);
    this.flush();
  }

  async #loop(queueKey: string): Promise<void> {
    const { now, store } = this.#o;
    while (!this.#stopped) {
      const cursor = this.#cursor.get(queueKey) ?? 0;
      let rows: OutboxRow[];
      if (this.#scan.delete(queueKey)) {
        this.#fresh.delete(queueKey); // the read sees those rows too
        rows = store.outboxNext(queueKey, cursor, BATCH);
        if (rows.length === BATCH) this.#scan.add(queueKey); // more after this page
      } else {
        rows = (this.#fresh.get(queueKey) ?? []).filter((r) => r.id > cursor);
        this.#fresh.delete(queueKey);
      }
      if (rows.length === 0) return;
      // Rows from the homeserver are committed before anything is sent on their behalf: their transaction is
      // acknowledged only then, and a crash before it would make the homeserver send them again (chatd has no
      // idempotency key). Remote rows need not wait: re-queued after a crash (webhook inbox, websocket
      // backfill), they are sent again with the same txnId, which the homeserver deduplicates.
      try {
        if (rows.some((r) => r.lane === 'matrix')) await store.durable();
      } catch (err) {
        // Their commit failed: whoever queued them was not acknowledged and sends them again.
        this.#o.log.error({ queue: queueKey, err }, 'outbox rows not committed; not delivered');
        this.#scan.add(queueKey);
        return;
      }
      for (const row of rows) {
        if (this.#stopped) return;
        const wait = row.nextAttemptAt - now();
        if (wait > 0) {
          await this.#o.sleep(wait);
          if (this.#stopped) return;
        }
        const outcome = await this.#attempt(queueKey, row);
        if (outcome === 'retry') {
          this.#scan.add(queueKey); // re-read: the row's next attempt time changed
          break;
        }
        this.#cursor.set(queueKey, row.id);
        if (outcome === 'done') this.#markDone(row);
      }
    }
  }

  /**
   * Done rows are committed together on the next turn of the event loop (one commit for many rows and
   * rooms) and skipped meanwhile through the per-queue cursor. Safe because handlers are idempotent
   * (message map checked first, deterministic txnIds): a crash before the commit only re-runs no-ops.
   */
  #markDone(row: OutboxRow): void {
    this.#done.push(row);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => this.flush());
  }

  /** Commits the done marks now. */
  flush(): void {
    this.#flushing = false;
    if (this.#done.length === 0) return;
    const t = this.#o.now();
    const rows = this.#done.splice(0);
    this.#o.store.outboxDone(
      rows.map((r) => r.id),
      t,
    );
    for (const r of rows) this.#latency.observe({ lane: r.lane }, Math.max(0, t - r.createdAt) / 1000);
  }

  /** Handles one row: `done`, `failed` (kept as failed, the queue moves on) or `retry` (the queue waits). */
  async #attempt(queueKey: string, row: OutboxRow): Promise<'done' | 'failed' | 'retry'> {
    const { store, log, now } = this.#o;
    try {
      await this.#o.handle(row);
      return 'done';
    } catch (err) {
      if (err instanceof RemoteApiError && err.retryable) {
        const backoff = Math.min(1000 * 2 ** Math.min(row.attempts, 16), this.#o.maxBackoffMs ?? 60_000);
        const delay = err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 0) : backoff;
        store.outboxRetry(row.id, now() + delay, err.message);
        log.warn(
          { queue: queueKey, outbox_id: row.id, attempts: row.attempts + 1, retry_in_ms: delay, err: err.message },
          'delivery failed, will retry',
        );
        return 'retry';
      }
      store.outboxFailed(row.id, (err as Error)?.message ?? String(err), now());
      log.error({ queue: queueKey, outbox_id: row.id, err }, 'delivery failed permanently; row kept as failed');
      return 'failed';
    }
  }
}

const BATCH = 100;
