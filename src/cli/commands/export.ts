/** `export`: runs the export stage once (people, conversations and follow-up tasks into Twenty CRM). */
import { assertTwentyConfigured, exportToTwenty } from '../../crm/index.ts';
import { recordJobRun } from '../../db/index.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime } from '../runtime.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'run the export stage once: classified conversations, people and follow-up tasks into Twenty CRM',
  usage: 'export [--setup] [--dry-run]',
  description: `
Exports classified conversations to Twenty ([twenty] url, API key from MCB_TWENTY_API_KEY or
MCB_TWENTY_API_KEY_FILE): resolves customers to people, upserts one conversation record per segment and
creates follow-up tasks. The first run creates the custom "conversation" object and its fields; --setup runs
that bootstrap again (idempotent; drift is reported, never changed). Unchanged records are skipped, so a run
with nothing new sends no mutation. SIGINT/SIGTERM stops after the current batch; the next run resumes.
--dry-run prints the counts and a sample of what would be sent, and calls no mutation.`,
  options: { setup: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  optionHelp: {
    setup: 'check and create the Twenty data model even if the cached one matches',
    'dry-run': 'print what would be created or updated (counts and a sample) without writing to Twenty',
  },
  sections: ['database', 'twenty'],
  async run({ values, configPath, io }) {
    const rt = createRuntime(configPath, this.sections, io);
    const controller = new AbortController();
    const stop = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      assertTwentyConfigured(rt.config.twenty);
      const ctx = rt.stage('export', controller.signal);
      const opts = { setup: values.setup === true, dryRun: values['dry-run'] === true };
      if (opts.dryRun) {
        const report = await exportToTwenty(ctx, opts);
        const c = report.counts;
        io.out(
          `dry run: ${c.conversations} classified conversations; would create ${c.exported} and update ${c.updated} records` +
            ` (people ${c.people_created} new, ${c.people_linked} linked; conversations ${c.conversations_exported}; tasks ${c.tasks_exported}); ${c.skipped} unchanged` +
            `${c.bootstrap_needed ? '; the data model would be created first' : ''}\n`,
        );
        io.out(`${JSON.stringify({ counts: c, sample: report.sample }, null, 2)}\n`);
        return EXIT.ok;
      }
      const counts = await recordJobRun(
        ctx.db.db,
        'export',
        'cli',
        async () => (await exportToTwenty(ctx, opts)).counts,
      );
      io.err(
        `export: ${counts.exported} created, ${counts.updated} updated, ${counts.skipped} unchanged, ${counts.failed} failed; ${counts.operations} Twenty operations\n`,
      );
      return counts.failed > 0 ? EXIT.failed : EXIT.ok;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      rt.close();
    }
  },
};
