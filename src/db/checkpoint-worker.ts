/**
 * Worker thread of {@link startWalCheckpointer}: its own connection to the database file, running passive
 * WAL checkpoints on a timer so that their page copies and fsyncs never run on the main event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// Its own page cache stays small: a checkpoint copies WAL frames, it does not query.
db.pragma('cache_size = -512');

const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    parentPort!.postMessage({ type: 'checkpoint', ...r });
  } catch (err) {
    parentPort!.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}, intervalMs);

parentPort!.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.postMessage({ type: 'stopped' });
  parentPort!.close();
});
