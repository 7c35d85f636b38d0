import { startServer } from '../../http/index.ts';
import { type Command, EXIT } from '../command.ts';
import { createRuntime, VERSION } from '../runtime.ts';
import { ALL_SECTIONS, composeServices, serviceApp } from '../services.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the service: HTTP server (appservice, webhooks, /health, /metrics) and the scheduled jobs',
  usage: 'start [--no-jobs]',
  description: `
Opens the HTTP server on [http] host/port first, then starts the configured parts (appservice, Wazo connector)
and schedules sync, classify and export from [jobs]. SIGTERM or SIGINT stops accepting requests, finishes
in-flight work, closes the database and exits 0.`,
  options: { 'no-jobs': { type: 'boolean' } },
  optionHelp: { 'no-jobs': 'serve HTTP and bridge only; do not schedule the pipeline jobs' },
  sections: ALL_SECTIONS,
  async run({ values, configPath, io }) {
    const rt = createRuntime(configPath, this.sections, io);
    const log = rt.log.child({ component: 'start' });
    // Signal handlers go in first, so that a SIGTERM at any point of start-up still shuts down cleanly.
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals) => {
        log.info({ signal: sig }, 'shutting down');
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    const controller = new AbortController();
    const services = await composeServices(rt);
    const app = serviceApp(rt, services);
    const server = await startServer(app, rt.config.http.host, rt.config.http.port);
    log.info({ url: server.url, version: VERSION }, 'http server listening');
    for (const s of services) await s.start(controller.signal);
    // Loaded here so that other commands (and --no-jobs) never load the pipeline stages.
    const scheduler = values['no-jobs']
      ? undefined
      : (await import('../../../jobs/index.ts')).startScheduler(rt.config, rt.metrics, (job) =>
          rt.stage(job, controller.signal),
        );

    await stopped;
    controller.abort();
    await server.close(3000);
    await scheduler?.stop();
    for (const s of [...services].reverse()) await s.stop();
    rt.close();
    log.info('stopped cleanly');
    // Libraries may keep timers alive; everything we own is closed, so make sure the process ends.
    setTimeout(() => process.exit(EXIT.ok), 500).unref();
    return EXIT.ok;
  },
};
