/**
 * Group commit for one SQLite connection: the hot writes of the bridge (outbox rows, message map, inbox,
 * appservice transaction records) that happen during one turn of the event loop share one transaction,
 * committed on the next `setImmediate`. Each commit writes its dirty pages to the WAL once, so ten messages
 * cost about one commit instead of thirty (see docs/benchmarks.md, relay).
 *
 * Durability is explicit: code that acknowledges something to the outside (the homeserver's transaction
 * PUT, webhookd's POST) or acts on a row it just wrote (the outbox sending it) first awaits `durable()`,
 * which resolves once everything written so far is committed. Every `run` is atomic on its own (a
 * savepoint inside the batch), and a failed commit rolls the whole batch back and rejects its waiters, so
 * nothing is acknowledged that was not stored.
 *
 * While a batch is open, any other write on the same connection joins it (SQLite has one transaction per
 * connection); `flush()` commits at once for writes that must be durable when their call returns.
 */
import type Database from 'better-sqlite3';

/** Shortest time between two group commits of one connection. */
const COMMIT_INTERVAL_MS = 1;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  readonly #sqlite: Database.Database;
  /** Hears about a failed end-of-turn commit (its waiters are rejected too); the owner sets its logger here. */
  onError: (err: unknown) => void;
  #open = false;
  #waiters: Waiter[] = [];
  #commits = 0;
  #lastCommit = -Infinity;
  /**
   * Runs a function in a transaction (a savepoint when one is open). One wrapper for every call: building a
   * `sqlite.transaction(fn)` per write cost ~4 µs, several times per bridged message.
   */
  readonly #atomic: (fn: () => unknown) => unknown;

  constructor(sqlite: Database.Database, onError?: (err: unknown) => void) {
    this.#sqlite = sqlite;
    this.#atomic = sqlite.transaction((fn: () => unknown) => fn());
    this.onError = onError ?? ((err) => process.emitWarning(`group commit failed: ${String(err)}`));
  }

  /** Commits performed so far (tests, metrics). */
  get commits(): number {
    return this.#commits;
  }

  /** True while writes wait for the end of the turn. */
  get pending(): boolean {
    return this.#open;
  }

  /** Runs `fn` atomically inside the current batch (opening one, committed at the end of this turn). */
  batch<T>(fn: () => T): T {
    if (!this.#open) {
      if (this.#sqlite.inTransaction) return this.#atomic(fn) as T; // someone else's transaction
      this.#sqlite.exec('BEGIN IMMEDIATE');
      this.#open = true;
      const commit = () => {
        try {
          this.flush();
        } catch (err) {
          this.onError(err);
        }
      };
      // At the end of this turn, but at most one commit per COMMIT_INTERVAL_MS: under load, the writes of
      // several turns share a commit; when idle, a write is committed at once.
      const wait = this.#lastCommit + COMMIT_INTERVAL_MS - performance.now();
      if (wait > 0) setTimeout(commit, wait);
      else setImmediate(commit);
    }
    return this.#inBatch(fn);
  }

  /**
   * Runs `fn` atomically and durably: committed when the outermost call returns, together with the open
   * batch if there is one. For the rare writes that must be stored before their caller goes on.
   */
  now<T>(fn: () => T): T {
    if (!this.#open) return this.#atomic(fn) as T;
    const out = this.#inBatch(fn);
    if (this.#depth === 0) this.flush();
    return out;
  }

  #depth = 0;

  #inBatch<T>(fn: () => T): T {
    this.#depth++;
    try {
      return this.#atomic(fn) as T;
    } catch (err) {
      // The savepoint of `fn` is rolled back; the batch itself stays good unless SQLite ended it.
      if (!this.#sqlite.inTransaction) this.#fail(err);
      throw err;
    } finally {
      this.#depth--;
    }
  }

  /** Resolves once every write made so far is committed (at once when nothing waits). */
  durable(): Promise<void> {
    if (!this.#open) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Commits the open batch now. Throws (after rolling back and rejecting the waiters) if the commit fails. */
  flush(): void {
    if (!this.#open || this.#depth > 0) return;
    if (!this.#sqlite.open || !this.#sqlite.inTransaction) {
      this.#fail(new Error('the batch transaction ended before its commit'));
      return;
    }
    try {
      this.#sqlite.exec('COMMIT');
    } catch (err) {
      if (this.#sqlite.inTransaction) this.#sqlite.exec('ROLLBACK');
      this.#fail(err);
      throw err;
    }
    this.#open = false;
    this.#commits++;
    this.#lastCommit = performance.now();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #fail(err: unknown): void {
    this.#open = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }
}

const groups = new WeakMap<Database.Database, GroupCommit>();

/** The connection's group commit (one per connection, shared by every store using it). */
export function groupCommit(sqlite: Database.Database): GroupCommit {
  let g = groups.get(sqlite);
  if (!g) {
    g = new GroupCommit(sqlite);
    groups.set(sqlite, g);
  }
  return g;
}

/** Commits a connection's open batch, if any (before closing it). */
export function flushGroupCommit(sqlite: Database.Database): void {
  groups.get(sqlite)?.flush();
}
