/** `sync`: runs the sync stage once (what the scheduled job does), recorded in job_runs. */
import { recordJobRun } from '../../db/index.ts';
import { NotConfiguredError } from '../../errors.ts';
import { barProgress, runSync, SyncIncompleteError } from '../../sync/index.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime } from '../runtime.ts';

export const syncCommand: Command = {
  name: 'sync',
  summary: 'run the sync stage once: Matrix room history into the database, with conversation metrics',
  usage: 'sync [--room ID]...',
  description: `
Reads the rooms of every [[sync.accounts]] account (selected by [sync] rooms), new events forward from the
stored position, the first time backwards as far as [sync] backfill_days / max_events_per_room, then
recomputes the conversation segments. Upgraded rooms (m.room.tombstone) are followed into the room that
replaced them. Safe to interrupt at any moment: the next run resumes. On a terminal a progress bar per room
is shown on standard error; otherwise a one-line summary, then one line per notice (an upgraded room no
account is in, a gap that could not be filled). Exit 1 when a room failed (the others are still synced);
the counters and errors are in job_runs.`,
  options: { room: { type: 'string', multiple: true } },
  optionHelp: { room: 'sync only this room ID (repeatable), whatever [sync] rooms says' },
  sections: ['homeserver', 'appservice', 'database', 'sync', 'whatsapp'],
  async run({ values, configPath, io }) {
    const rt = createRuntime(configPath, this.sections, io);
    if (rt.config.sync.accounts.length === 0) {
      throw new NotConfiguredError(
        'sync',
        '[[sync.accounts]] is empty: add an account (user_id + access_token_env or access_token_file, or appservice = true) to config.toml',
      );
    }
    const rooms = (values.room as string[] | undefined) ?? [];
    const bad = rooms.filter((r) => !/^![^:]+:.+$/.test(r));
    if (bad.length > 0) {
      io.err(
        `sync: --room expects a room ID such as "!abc:example.org", got ${bad.map((b) => JSON.stringify(b)).join(', ')}\n`,
      );
      rt.close();
      return EXIT.usage;
    }
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const ctx = rt.stage('sync', controller.signal);
      const progress = io.interactive ? barProgress() : undefined;
      let counts: Record<string, number>;
      let failed = false;
      const notices: string[] = [];
      try {
        counts = await recordJobRun(ctx.db.db, 'sync', 'cli', () =>
          runSync(ctx, { rooms, progress, env: io.env, onNotice: (m) => notices.push(m) }),
        );
      } catch (err) {
        if (!(err instanceof SyncIncompleteError)) throw err;
        counts = err.counts;
        failed = true;
        io.err(`sync: ${err.message}\n`);
      }
      io.err(
        `sync: ${counts.rooms_synced} rooms synced (${counts.rooms_skipped} skipped, ${counts.rooms_failed} failed), ${counts.events_stored} events stored ` +
          `(${counts.messages} messages, ${counts.edits} edits, ${counts.redactions} redactions, ${counts.reactions} reactions, ${counts.encrypted} encrypted), ` +
          `conversations ${counts.conversations_created} new / ${counts.conversations_updated} changed\n`,
      );
      // Not failures, but someone should know: an upgraded room nobody reads, history that could not be read.
      for (const n of notices) io.err(`sync: ${n}\n`);
      return failed ? EXIT.failed : EXIT.ok;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rt.close();
    }
  },
};
