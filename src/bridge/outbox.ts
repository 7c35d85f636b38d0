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

  /** Makes sure the room's loop runs (call after committing new rows). */
  kick(queueKey: string): void {
    if (this.#stopped) return;
    const running = this.#running.get(queueKey);
    if (running) {
      this.#pendingKick.add(queueKey);
      return;
    }
    const p = this.#loop(queueKey).finally(() => {
      this.#running.delete(queueKey);
      if (this.#pendingKick.delete(queueKey)) this.kick(queueKey);
    });
    this.#running.set(queueKey, p);
  }
  readonly #pendingKick = new Set<string>();

  /** Resolves when no loop is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  /** Stops taking rows; in-flight handlers finish. Pending rows stay for the next start. */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true;
    // A handler stuck retrying a dead homeserver must not hold shutdown: its row stays pending for next time.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, graceMs).unref()))]);
    clearTimeout(timer);
  }

  async #loop(queueKey: string): Promise<void> {
    const { store, log, now } = this.#o;
    while (!this.#stopped) {
      const row = store.outboxNext(queueKey);
      if (!row) return;
      const wait = row.nextAttemptAt - now();
      if (wait > 0) await this.#o.sleep(wait);
      if (this.#stopped) return;
      try {
        await this.#o.handle(row);
        const t = now();
        store.outboxDone(row.id, t);
        this.#latency.observe({ lane: row.lane }, Math.max(0, t - row.createdAt) / 1000);
      } catch (err) {
        if (err instanceof RemoteApiError && err.retryable) {
          const backoff = Math.min(1000 * 2 ** Math.min(row.attempts, 16), this.#o.maxBackoffMs ?? 60_000);
          const delay = err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 0) : backoff;
          store.outboxRetry(row.id, now() + delay, err.message);
          log.warn(
            { queue: queueKey, outbox_id: row.id, attempts: row.attempts + 1, retry_in_ms: delay, err: err.message },
            'delivery failed, will retry',
          );
        } else {
          store.outboxFailed(row.id, (err as Error)?.message ?? String(err), now());
          log.error({ queue: queueKey, outbox_id: row.id, err }, 'delivery failed permanently; row kept as failed');
        }
      }
    }
  }
}
