import { resolve } from 'node:path';
import { runDemo } from '../demo/run.ts';
import { type Command, EXIT } from '../command.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the whole product on embedded simulators: bridge, sync, classify, export, HTML report',
  usage: 'demo [--keep] [--dir DIR]',
  description: `
Starts a simulated homeserver, Wazo and Twenty on 127.0.0.1, plays a scripted day of support (src/cli/demo/
scenario.yaml: WhatsApp through a simulated mautrix-whatsapp, Wazo through the real bridge in both
directions), then runs sync, classify and export once each and prints the conversations, what is now in
Twenty, and the path of the HTML report. Needs no server and no configuration; the scenario is backdated to
yesterday, so nothing waits in real time.`,
  options: { keep: { type: 'boolean' }, dir: { type: 'string' } },
  optionHelp: {
    keep: 'leave the simulators, the bridge and the report page up until Ctrl-C',
    dir: 'working folder (default ./data/demo; emptied first)',
  },
  sections: [],
  async run({ values, io }) {
    const dir = resolve(typeof values.dir === 'string' ? values.dir : 'data/demo');
    let keep: AbortController | undefined;
    if (values.keep === true) {
      keep = new AbortController();
      const onSignal = () => keep?.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    const result = await runDemo({ dir, io, keep: keep?.signal });
    if (!keep) await result.stop();
    // Library timers (HTTP keep-alive, SDK timeouts) must not hold the finished demo open.
    setTimeout(() => process.exit(EXIT.ok), 300).unref();
    return EXIT.ok;
  },
};
