/** `classify`: runs the classify stage once (what the scheduled job does), recorded in job_runs. */
import { recordJobRun } from '../../db/index.ts';
import { runClassify } from '../../nlp/index.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime } from '../runtime.ts';

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'run the classify stage once: sentiment, intent, keywords and language of stored messages and conversations',
  usage: 'classify [--reclassify]',
  description: `
Classifies the stored messages and conversation segments that have no classification for the current model
version (or whose conversation changed since), in batches of [nlp] batch_size, one transaction per batch.
--reclassify classifies everything again. Prints a one-line summary on standard error.`,
  options: { reclassify: { type: 'boolean' } },
  optionHelp: { reclassify: 'classify every message and conversation again' },
  sections: ['database', 'nlp'],
  async run({ values, configPath, io }) {
    const rt = createRuntime(configPath, this.sections, io);
    try {
      const ctx = rt.stage('classify');
      const counts = await recordJobRun(ctx.db.db, 'classify', 'cli', () =>
        runClassify(ctx, { reclassify: values.reclassify === true }),
      );
      io.err(
        `classify: ${counts.messages} messages and ${counts.conversations} conversations classified in ${counts.batches} batches${
          counts.removed ? `, ${counts.removed} stale rows removed` : ''
        }\n`,
      );
      return EXIT.ok;
    } finally {
      rt.close();
    }
  },
};
