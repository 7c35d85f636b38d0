/**
 * What every pipeline stage runner (sync, classify, export) receives. Leaf type module: stages import
 * this and infrastructure only, never each other.
 */
import type { Config } from './config/index.ts';
import type { DatabaseHandle, JobCounts } from './db/index.ts';
import type { HealthRegistry } from './health.ts';
import type { Logger } from './log.ts';
import type { Registry } from './metrics.ts';

export interface StageContext {
  readonly config: Config;
  readonly db: DatabaseHandle;
  /** Child logger bound to `{ job }` (and the run id). */
  readonly log: Logger;
  readonly metrics: Registry;
  readonly health: HealthRegistry;
  /** Aborted on SIGTERM: finish the current batch, commit, and return. */
  readonly signal: AbortSignal;
  /** Injected clock (epoch ms); tests and the demo pass a fake one. */
  readonly now: () => number;
  /** True when attached to a terminal (progress bars allowed on stderr). */
  readonly interactive: boolean;
}

/** A stage run: handles a bounded amount of pending work and returns its counters for `job_runs`. */
export type StageRunner = (ctx: StageContext) => Promise<JobCounts>;
