/** The scheduled `sync` job: stage 1, Matrix room history into the history tables. */
import { runSync } from '../src/sync/index.ts';
import type { JobDefinition } from './job.ts';

export const syncJob: JobDefinition = { name: 'sync', run: (ctx) => runSync(ctx, {}) };
