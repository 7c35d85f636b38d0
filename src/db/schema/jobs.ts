/** Owner: the job runner (src/db/job-runs.ts). One row per run of a pipeline stage, scheduled or from the CLI. */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const jobRuns = sqliteTable(
  'job_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    job: text('job').notNull(),
    trigger: text('trigger', { enum: ['cron', 'cli', 'demo'] }).notNull(),
    startedAt: integer('started_at', { mode: 'number' }).notNull(),
    finishedAt: integer('finished_at', { mode: 'number' }),
    status: text('status', { enum: ['running', 'ok', 'failed'] }).notNull(),
    /** JSON object of counters (`{"rooms": 3, "events": 120}`). */
    counts: text('counts').notNull().default('{}'),
    error: text('error'),
  },
  (t) => [index('job_runs_job_started').on(t.job, t.startedAt)],
);
