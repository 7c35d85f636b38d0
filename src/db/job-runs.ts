/** Repository of the `job_runs` table: every run of sync, classify and export, scheduled or one-shot. */
import { and, desc, eq } from 'drizzle-orm';
import { describeError } from '../errors.ts';
import type { Db } from './client.ts';
import { jobRuns } from './schema/jobs.ts';

export type JobTrigger = 'cron' | 'cli' | 'demo';
export type JobCounts = Record<string, number>;

export interface JobRunRecord {
  id: number;
  job: string;
  trigger: JobTrigger;
  startedAt: number;
  finishedAt: number | null;
  status: 'running' | 'ok' | 'failed';
  counts: JobCounts;
  error: string | null;
}

/** Inserts a `running` row and returns its id. */
export function startJobRun(db: Db, job: string, trigger: JobTrigger, now: number): number {
  const row = db
    .insert(jobRuns)
    .values({ job, trigger, startedAt: now, status: 'running' })
    .returning({ id: jobRuns.id })
    .get();
  return row.id;
}

/** Marks a run finished with its counters, and its error when it failed. */
export function finishJobRun(
  db: Db,
  id: number,
  result: { ok: boolean; counts: JobCounts; error?: unknown },
  now: number,
): void {
  db.update(jobRuns)
    .set({
      finishedAt: now,
      status: result.ok ? 'ok' : 'failed',
      counts: JSON.stringify(result.counts),
      error: result.error === undefined ? null : describeError(result.error),
    })
    .where(eq(jobRuns.id, id))
    .run();
}

/** Runs `fn`, recording the run in `job_runs` whether it succeeds or throws (then rethrows). */
export async function recordJobRun(
  db: Db,
  job: string,
  trigger: JobTrigger,
  fn: () => Promise<JobCounts>,
  clock: () => number = Date.now,
): Promise<JobCounts> {
  const id = startJobRun(db, job, trigger, clock());
  try {
    const counts = await fn();
    finishJobRun(db, id, { ok: true, counts }, clock());
    return counts;
  } catch (err) {
    // A runner that did part of its work may attach its counters to the error (e.g. sync's SyncIncompleteError).
    finishJobRun(db, id, { ok: false, counts: countsOf(err), error: err }, clock());
    throw err;
  }
}

function countsOf(err: unknown): JobCounts {
  const c = (err as { counts?: unknown } | null)?.counts;
  if (c === null || typeof c !== 'object') return {};
  return Object.fromEntries(Object.entries(c).filter(([, v]) => typeof v === 'number')) as JobCounts;
}

/** The latest runs of one job, newest first. */
export function latestJobRuns(db: Db, job: string, limit = 10): JobRunRecord[] {
  return db
    .select()
    .from(jobRuns)
    .where(eq(jobRuns.job, job))
    .orderBy(desc(jobRuns.startedAt), desc(jobRuns.id))
    .limit(limit)
    .all()
    .map((r) => ({ ...r, counts: JSON.parse(r.counts) as JobCounts }));
}

/** The latest finished run of a job with the given status, if any. */
export function lastJobRun(db: Db, job: string, status?: 'ok' | 'failed'): JobRunRecord | undefined {
  const where = status ? and(eq(jobRuns.job, job), eq(jobRuns.status, status)) : eq(jobRuns.job, job);
  const r = db.select().from(jobRuns).where(where).orderBy(desc(jobRuns.id)).limit(1).get();
  return r ? { ...r, counts: JSON.parse(r.counts) as JobCounts } : undefined;
}
