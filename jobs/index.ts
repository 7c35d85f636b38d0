/**
 * The node-cron scheduler of the three pipeline jobs, in the order of their data (sync → classify → export),
 * each on its own `[jobs]` schedule. Imported only by src/cli.
 */
import type { Config } from '../src/config/index.ts';
import type { Registry } from '../src/metrics.ts';
import type { StageContext } from '../src/stage.ts';
import { classifyJob } from './classify.ts';
import { exportJob } from './export.ts';
import { type JobDefinition, type JobName, jobMetrics, type RunningJob, scheduleJob } from './job.ts';
import { syncJob } from './sync.ts';

export { type JobDefinition, type JobName, type RunningJob, scheduleJob } from './job.ts';

export const JOBS: readonly JobDefinition[] = [syncJob, classifyJob, exportJob];

export interface Scheduler {
  readonly jobs: readonly RunningJob[];
  /** Stops every schedule and waits for runs in progress. */
  stop(): Promise<void>;
}

/**
 * Schedules the jobs whose part is configured. `export` needs `[twenty] url`; a job with
 * `<job>_enabled = false` is not scheduled (it can still be run once from the CLI).
 */
export function startScheduler(
  config: Config,
  metrics: Registry,
  makeContext: (job: JobName) => StageContext,
  defs: readonly JobDefinition[] = JOBS,
): Scheduler {
  const m = jobMetrics(metrics);
  const jobs = defs.map((def) => {
    const enabled = config.jobs[`${def.name}_enabled`] && (def.name !== 'export' || config.twenty.url !== '');
    return scheduleJob(def, config.jobs[def.name], {
      timezone: config.jobs.timezone,
      enabled,
      makeContext,
      metrics: m,
    });
  });
  return {
    jobs,
    async stop() {
      await Promise.all(jobs.map((j) => j.stop()));
    },
  };
}
