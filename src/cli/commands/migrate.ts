import { openDatabase } from '../../db/index.ts';
import { loadConfig } from '../../config/index.ts';
import { type Command, EXIT } from '../command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'create or upgrade the database schema (also done automatically at start)',
  usage: 'migrate',
  description: 'Applies the SQL migrations in schemas/migrations to the database named by [database] url. Idempotent.',
  options: {},
  optionHelp: {},
  sections: ['database'],
  async run({ configPath, io }) {
    const config = loadConfig({
      path: configPath,
      env: io.env,
      sections: this.sections,
      onWarning: (m) => io.err(`warning: ${m}\n`),
    });
    const handle = openDatabase(config.database.url);
    handle.close();
    io.err(`database ${handle.path} is up to date\n`);
    return EXIT.ok;
  },
};
