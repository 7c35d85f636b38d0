/** The scheduled `export` job: stage 3, people, conversations and tasks into Twenty CRM. */
import { runExport } from '../src/crm/index.ts';
import type { JobDefinition } from './job.ts';

export const exportJob: JobDefinition = {
  name: 'export',
  run: (ctx) => runExport(ctx, { setup: false, dryRun: false }),
};
