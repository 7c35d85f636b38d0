import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobMetrics, scheduleJob } from '../../jobs/job.ts';
import { JOBS, startScheduler } from '../../jobs/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { latestJobRuns, openDatabase } from '../../src/db/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import type { StageContext } from '../../src/stage.ts';

function setup() {
  const db = openDatabase('sqlite::memory:');
  const config = loadConfig({ env: {}, path: 'config.toml' });
  const metrics = createMetricsRegistry({ processMetrics: false });
  const ctx = (): StageContext => ({
    config,
    db,
    log: silentLogger,
    metrics,
    health: new HealthRegistry(),
    signal: new AbortController().signal,
    now: Date.now,
    interactive: false,
  });
  return { db, config, metrics, ctx };
}

describe('scheduled jobs', () => {
  it('never overlaps a run of the same job, and records every run in job_runs', async () => {
    const { db, metrics, ctx } = setup();
    let release: (() => void) | undefined;
    let runs = 0;
    const job = scheduleJob(
      {
        name: 'sync',
        run: async () => {
          runs++;
          await new Promise<void>((r) => (release = r));
          return { rooms: 1 };
        },
      },
      '*/5 * * * *',
      { timezone: 'UTC', enabled: false, makeContext: ctx, metrics: jobMetrics(metrics) },
    );
    const first = job.runNow();
    await new Promise((r) => setImmediate(r));
    assert.equal(await job.runNow(), 'skipped', 'a second run while the first is in progress is skipped');
    release!();
    assert.equal(await first, 'ran');
    assert.equal(runs, 1);
    const recorded = latestJobRuns(db.db, 'sync');
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0].status, 'ok');
    assert.deepEqual(recorded[0].counts, { rooms: 1 });
    assert.match(await metrics.metrics(), /mcb_job_runs_total\{job="sync",status="ok"\} 1/);
    await job.stop();
  });

  it('records a failed run, keeps scheduling, and succeeds on the next tick', async () => {
    const { db, metrics, ctx } = setup();
    let fail = true;
    const job = scheduleJob(
      {
        name: 'export',
        run: async () => {
          if (fail) throw new Error('Twenty unreachable');
          return { exported: 2 };
        },
      },
      '*/15 * * * *',
      { timezone: 'UTC', enabled: false, makeContext: ctx, metrics: jobMetrics(metrics) },
    );
    assert.equal(await job.runNow(), 'failed');
    fail = false;
    assert.equal(await job.runNow(), 'ran');
    const recorded = latestJobRuns(db.db, 'export');
    assert.deepEqual(
      recorded.map((r) => r.status),
      ['ok', 'failed'],
    );
    assert.match(recorded[1].error ?? '', /Twenty unreachable/);
    assert.match(await metrics.metrics(), /mcb_job_runs_total\{job="export",status="failed"\} 1/);
    await job.stop();
  });

  it('refuses an invalid cron expression with the key name', () => {
    const { metrics, ctx } = setup();
    assert.throws(
      () =>
        scheduleJob({ name: 'classify', run: async () => ({}) }, 'every minute', {
          timezone: 'UTC',
          enabled: false,
          makeContext: ctx,
          metrics: jobMetrics(metrics),
        }),
      (err: unknown) =>
        err instanceof ConfigError && /jobs\.classify: "every minute" is not a valid cron/.test(err.message),
    );
  });

  it('schedules the three stages in the order of their data, export only when [twenty] url is set', async () => {
    const { config, metrics, ctx } = setup();
    assert.deepEqual(
      JOBS.map((j) => j.name),
      ['sync', 'classify', 'export'],
    );
    const scheduler = startScheduler(
      config,
      metrics,
      ctx,
      JOBS.map((j) => ({ ...j, run: async () => ({}) })),
    );
    assert.deepEqual(
      scheduler.jobs.map((j) => j.name),
      ['sync', 'classify', 'export'],
    );
    await scheduler.stop();
  });
});
