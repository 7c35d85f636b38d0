/** `forget --customer KEY`: erases a customer from our database and from Twenty (soft delete). */
import { forgetCustomer } from '../../crm/index.ts';
import { forgetOrphanClassifications } from '../../nlp/index.ts';
import { forgetCustomerHistory } from '../../sync/index.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime } from '../runtime.ts';

const KEY = /^(tel:\+\d{6,15}|wazo:[\w-]+|mxid:@[^:\s]+:\S+)$/;

export const forgetCommand: Command = {
  name: 'forget',
  summary: 'erase a customer everywhere: local history, classifications, CRM links, and their Twenty records',
  usage: 'forget --customer KEY',
  description: `
Erases the customer KEY ('tel:+E164', 'wazo:<user uuid>' or 'mxid:@user:server'): soft-deletes their Twenty
person, conversations, tasks and task targets through the API, then deletes their rows in the history,
classification and crm tables. Prints what was removed. Twenty must be reachable when the customer was exported
(the Twenty ids are kept until the remote deletion succeeded, so the command can be run again).`,
  options: { customer: { type: 'string' } },
  optionHelp: { customer: "the customer key, e.g. 'tel:+33612345678'" },
  sections: ['database', 'twenty'],
  async run({ values, configPath, io }) {
    const key = typeof values.customer === 'string' ? values.customer.trim() : '';
    if (!KEY.test(key)) {
      io.err(
        `forget: --customer must be a customer key such as 'tel:+33612345678', 'wazo:<uuid>' or 'mxid:@user:server'\n`,
      );
      return EXIT.usage;
    }
    const rt = createRuntime(configPath, this.sections, io);
    try {
      const ctx = rt.stage('forget');
      // Each stage erases what it owns: export (Twenty + crm_links) first, as it finds the customer's
      // conversations through the history tables; then the history; then the classifications left orphaned.
      const report = await forgetCustomer(ctx, key);
      const history = forgetCustomerHistory(ctx.db.sqlite, key);
      const { conversationIds: _ids, ...historyCounts } = history;
      Object.assign(report.local, historyCounts, forgetOrphanClassifications(ctx.db));
      const t = report.twenty;
      io.out(`forgot ${key}\n`);
      io.out(
        `  twenty (soft-deleted): ${t.people} people, ${t.conversations} conversations, ${t.tasks} tasks, ${t.taskTargets} task targets\n`,
      );
      for (const [table, n] of Object.entries(report.local)) io.out(`  local ${table}: ${n} rows deleted\n`);
      return EXIT.ok;
    } finally {
      rt.close();
    }
  },
};
