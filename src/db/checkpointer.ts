/**
 * WAL checkpoints off the event loop, for the long-running bridge. SQLite's automatic checkpoint runs inside
 * the COMMIT that crosses 1,000 WAL pages: it copies pages into the database file and fsyncs, which on the
 * bridge's hot path took up to 140 ms in one commit and tripled the mean commit cost (docs/benchmarks.md,
 * relay). With the checkpointer, the main connection's automatic checkpoints are off and a worker thread
 * with its own connection runs `wal_checkpoint(PASSIVE)` every `intervalMs`: it never blocks the writer, and
 * the writer restarts the WAL from its beginning once a checkpoint has caught up. `close()` of the handle
 * still truncates the WAL at shutdown.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { DatabaseHandle } from './client.ts';

export interface WalCheckpointer {
  /** Checkpoints completed so far. */
  readonly runs: number;
  /** Stops the worker and gives automatic checkpoints back to the main connection. */
  stop(): Promise<void>;
}

export function startWalCheckpointer(
  handle: DatabaseHandle,
  opts: { log: Logger; intervalMs?: number },
): WalCheckpointer | undefined {
  if (handle.path === ':memory:') return undefined;
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
    workerData: { path: handle.path, intervalMs: opts.intervalMs ?? 250 },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  handle.sqlite.pragma('wal_autocheckpoint = 0');
  let runs = 0;
  let failing = false;
  let stopped: Promise<void> | undefined;
  const restore = () => {
    if (handle.sqlite.open) handle.sqlite.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('message', (m: { type: string; message?: string }) => {
    if (m.type === 'checkpoint') {
      runs++;
      if (failing) opts.log.info('WAL checkpoints work again');
      failing = false;
    } else if (m.type === 'error' && !failing) {
      failing = true; // logged once per failing streak; the main connection keeps working either way
      opts.log.warn({ err: m.message }, 'WAL checkpoint failed; will retry');
    }
  });
  let exited = false;
  worker.on('error', (err) => {
    // Without the worker, SQLite's own checkpoints take over again: slower commits, nothing lost.
    opts.log.error({ err: err.message }, 'WAL checkpointer stopped; automatic checkpoints resume');
  });
  worker.on('exit', () => {
    exited = true;
    restore();
  });
  return {
    get runs() {
      return runs;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (exited) return resolve();
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate(), 2000).unref();
      });
      return stopped;
    },
  };
}
