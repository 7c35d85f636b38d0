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
    let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
    const stopped = new Promise<void>((resolve) => {
      onSignal = (sig: NodeJS.Signals) => {
        log.info({ signal: sig }, 'shutting down');
        process.off('SIGTERM', onSignal!);
        process.off('SIGINT', onSignal!);
        resolve();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    const controller = new AbortController();
    const started: { stop(): Promise<void> }[] = [];
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    let scheduler: { stop(): Promise<void> } | undefined;
    try {
      const services = await composeServices(rt);
      const app = serviceApp(rt, services);
      server = await startServer(app, rt.config.http.host, rt.config.http.port);
      // Which file was read: without --config or MCB_CONFIG a missing ./config.toml silently means the defaults.
      const config = rt.config.source.file ?? 'none: built-in defaults (no ./config.toml)';
      log.info({ url: server.url, version: VERSION, config }, 'http server listening');
      for (const s of services) {
        started.push(s);
        await s.start(controller.signal);
      }
      // Loaded here so that other commands (and --no-jobs) never load the pipeline stages.
      scheduler = values['no-jobs']
        ? undefined
        : (await import('../../../jobs/index.ts')).startScheduler(rt.config, rt.metrics, (job) =>
            rt.stage(job, controller.signal),
          );
    } catch (err) {
      // A part that cannot start stops the whole service: undo what did start, so that the process ends with
      // the error (exit 1 or 2) instead of serving on half-configured.
      process.off('SIGTERM', onSignal!);
      process.off('SIGINT', onSignal!);
      controller.abort();
      await server?.close(1000).catch(() => undefined);
      for (const s of started.reverse()) await s.stop().catch(() => undefined);
      rt.close();
      setTimeout(() => process.exit(), 500).unref();
      throw err;
    }

    await stopped;
    controller.abort();
    await server.close(3000);
    await scheduler?.stop();
    for (const s of started.reverse()) await s.stop();
    rt.close();
    log.info('stopped cleanly');
    // Libraries may keep timers alive; everything we own is closed, so make sure the process ends.
    setTimeout(() => process.exit(EXIT.ok), 500).unref();
    return EXIT.ok;
  },
};
