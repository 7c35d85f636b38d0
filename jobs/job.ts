/**
 * A scheduled pipeline job: a stage runner plus its cron schedule. The runner does the work; this module
 * only guarantees that a job never overlaps itself, that every run lands in `job_runs` and in /metrics,
 * and that a failed run is simply retried at the next tick.
 */
import { createTask, type ScheduledTask, validate } from 'node-cron';
import { recordJobRun } from '../src/db/index.ts';
import { ConfigError, describeError } from '../src/errors.ts';
import { Counter, getOrCreate, Histogram, type Registry } from '../src/metrics.ts';
import type { StageContext, StageRunner } from '../src/stage.ts';

export type JobName = 'sync' | 'classify' | 'export';

export interface JobDefinition {
  name: JobName;
  run: StageRunner;
}

export interface RunningJob {
  readonly name: JobName;
  /** Runs the job now unless a run is already in progress; resolves when that run ends. */
  runNow(): Promise<'ran' | 'failed' | 'skipped'>;
  /** Stops scheduling and waits for the current run to finish. */
  stop(): Promise<void>;
}

export interface JobMetrics {
  runs: Counter<'job' | 'status'>;
  duration: Histogram<'job'>;
}

export function jobMetrics(registry: Registry): JobMetrics {
  return {
    runs: getOrCreate(
      registry,
      'mcb_job_runs_total',
      () =>
        new Counter({
          name: 'mcb_job_runs_total',
          help: 'Pipeline job runs by job and status',
          labelNames: ['job', 'status'],
          registers: [registry],
        }),
    ),
    duration: getOrCreate(
      registry,
      'mcb_job_duration_seconds',
      () =>
        new Histogram({
          name: 'mcb_job_duration_seconds',
          help: 'Duration of pipeline job runs',
          labelNames: ['job'],
          buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
          registers: [registry],
        }),
    ),
  };
}

/**
 * Wraps a job so that runs never overlap, are recorded, and never throw out of the scheduler.
 * `makeContext` builds a fresh stage context per run.
 */
export function scheduleJob(
  def: JobDefinition,
  cronExpression: string,
  opts: { timezone: string; enabled: boolean; makeContext: (job: JobName) => StageContext; metrics: JobMetrics },
): RunningJob {
  if (!validate(cronExpression)) {
    throw new ConfigError(
      `jobs.${def.name}`,
      `jobs.${def.name}: "${cronExpression}" is not a valid cron expression (e.g. "*/5 * * * *")`,
    );
  }
  let current: Promise<'ran' | 'failed'> | undefined;
  const runNow = async (): Promise<'ran' | 'failed' | 'skipped'> => {
    if (current) return 'skipped';
    const ctx = opts.makeContext(def.name);
    const end = opts.metrics.duration.startTimer({ job: def.name });
    current = recordJobRun(ctx.db.db, def.name, 'cron', () => def.run(ctx), ctx.now)
      .then((counts) => {
        ctx.log.info({ counts, duration_ms: Math.round(end() * 1000) }, 'job run finished');
        opts.metrics.runs.inc({ job: def.name, status: 'ok' });
        return 'ran' as const;
      })
      .catch((err: unknown) => {
        end();
        // The failure is recorded in job_runs and /metrics; the next tick retries, so the scheduler carries on.
        ctx.log.error({ err: describeError(err) }, 'job run failed; it will be retried at the next tick');
        opts.metrics.runs.inc({ job: def.name, status: 'failed' });
        return 'failed' as const;
      })
      .finally(() => {
        current = undefined;
      });
    return current;
  };
  let task: ScheduledTask | undefined;
  if (opts.enabled) {
    task = createTask(cronExpression, () => runNow(), {
      timezone: opts.timezone,
      name: `mcb-${def.name}`,
      noOverlap: true,
    });
    void task.start();
  }
  return {
    name: def.name,
    runNow,
    async stop() {
      await task?.destroy();
      await current;
    },
  };
}
