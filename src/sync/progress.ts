/**
 * Progress display of a CLI sync: one bar per room on a TTY (cli-progress, on stderr), nothing per room
 * otherwise (the command prints a one-line summary at the end). Scheduled runs use the no-op reporter.
 */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  /** A room starts: `label` is its id (or name). */
  start(roomId: string, label: string): void;
  /** Events read so far in that room. */
  update(roomId: string, read: number): void;
  finish(roomId: string, outcome: 'synced' | 'skipped' | 'failed'): void;
  stop(): void;
}

export const silentProgress: ProgressReporter = { start() {}, update() {}, finish() {}, stop() {} };

export function barProgress(stream: NodeJS.WritableStream = process.stderr): ProgressReporter {
  const multi = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream & { isTTY?: boolean },
      format: ' {bar} {room} | {value} events | {state}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const reads = new Map<string, number>();
  return {
    start(roomId, label) {
      bars.set(roomId, multi.create(1, 0, { room: label.slice(0, 40).padEnd(40), state: 'reading' }));
    },
    update(roomId, read) {
      const bar = bars.get(roomId);
      if (!bar) return;
      reads.set(roomId, read);
      // The total is unknown while paging: the bar stays just short of full until the room is done.
      bar.setTotal(read + 1);
      bar.update(read);
    },
    finish(roomId, outcome) {
      const bar = bars.get(roomId);
      if (!bar) return;
      const read = reads.get(roomId) ?? 0;
      bar.setTotal(Math.max(1, read));
      bar.update(read, { state: outcome });
      bar.stop();
    },
    stop() {
      multi.stop();
    },
  };
}
