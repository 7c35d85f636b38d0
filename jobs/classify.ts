/** The scheduled `classify` job: stage 2, sentiment, intent and keywords of stored messages. */
import { runClassify } from '../src/nlp/index.ts';
import type { JobDefinition } from './job.ts';

export const classifyJob: JobDefinition = { name: 'classify', run: (ctx) => runClassify(ctx, { reclassify: false }) };
