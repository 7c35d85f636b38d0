/**
 * `matrix-crm-bridge demo`: the whole product against embedded simulators. Starts the fakes, the bridge
 * (appservice + Wazo connector, as `start` composes them), plays the scenario in backdated time, runs sync,
 * classify and export once each, then prints the results and writes the HTML report.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandIo } from '../command.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { ALL_SECTIONS, composeServices, type Service, serviceApp } from '../services.ts';
import { recordJobRun } from '../../db/index.ts';
import { type RunningServer, startServer } from '../../http/index.ts';
import { buildRegistration, writeRegistration } from '../../matrix/index.ts';
import { runClassify } from '../../nlp/index.ts';
import { runExport } from '../../crm/index.ts';
import { buildReport, listConversations } from '../../report/index.ts';
import { runSync } from '../../sync/index.ts';
import { parseDuration } from '../../config/index.ts';
import { conversationsTable, twentyTables } from './output.ts';
import { play, until } from './play.ts';
import { loadScenario } from './scenario.ts';
import { createWorld, DemoClock, type World } from './world.ts';

export interface DemoOptions {
  /** Where the demo writes its database, config, registration and report (emptied first). */
  dir: string;
  io: CommandIo;
  /** Keep everything running (and serve the report) until `signal` aborts. */
  keep?: AbortSignal;
  /** Real "now" (the scenario is played on the day before). */
  now?: number;
  /** Run sync, classify and export and print the results (default true); false stops after playing. */
  pipeline?: boolean;
}

export interface DemoResult {
  world: World;
  runtime: Runtime;
  reportPath: string;
  /** Counters of the three stages (undefined when `pipeline` was false). */
  counts?: { sync: Record<string, number>; classify: Record<string, number>; export: Record<string, number> };
  /** Stops the bridge and the simulators (done already unless `keep` was given). */
  stop(): Promise<void>;
}

/** Runs the demo; with `keep`, returns once `keep` aborts. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const realNow = opts.now ?? Date.now();
  const scenario = loadScenario();
  const clock = new DemoClock(realNow);
  const world = await createWorld(scenario, opts.dir, clock);
  let server: RunningServer | undefined;
  let services: Service[] = [];
  let runtime: Runtime | undefined;
  const controller = new AbortController();
  const stop = async () => {
    controller.abort();
    await server?.close(1000);
    for (const s of [...services].reverse()) await s.stop();
    runtime?.close();
    await world.stop();
  };
  try {
    const say = (line: string) => opts.io.err(`${line}\n`);
    say(`demo: simulated homeserver ${world.hs.url}, Wazo ${world.wazo.url}, Twenty ${world.twenty.url}`);
    const io: CommandIo = { ...opts.io, env: world.env };
    runtime = createRuntime(world.configPath, ALL_SECTIONS, io);
    const rt = runtime;
    const as = rt.config.appservice;
    const reg = buildRegistration({
      id: as.id,
      url: as.url,
      botLocalpart: as.bot_localpart,
      ghostPrefix: as.ghost_prefix,
      domain: rt.config.homeserver.domain,
    });
    writeRegistration(resolve(as.registration), reg);
    services = await composeServices(rt);
    const handle = rt.database();
    const app = serviceApp(rt, services);
    const reportPath = join(world.dir, 'report.html');
    app.get('/demo/report', (c) => c.html(renderReport(rt, realNow)));
    server = await startServer(app, '127.0.0.1', 0);
    world.hs.registerAppservice({ ...reg, url: server.url });
    for (const s of services) await s.start(controller.signal);
    await until(() => rt.health.snapshot().wazo?.state === 'ok', 'the Wazo connector to connect');

    say('demo: playing a day of support (WhatsApp through the simulated mautrix-whatsapp, Wazo through the bridge)…');
    const stats = await play(world, scenario, realNow);
    say(
      `demo: ${stats.portals} conversations opened; ${stats.whatsappMessages} WhatsApp messages, ${stats.wazoToMatrix} Wazo → Matrix and ${stats.matrixToWazo} Matrix → Wazo relayed`,
    );
    clock.set(realNow);
    if (opts.pipeline === false) return { world, runtime: rt, reportPath, stop };

    const stage = async (job: 'sync' | 'classify' | 'export', fn: () => Promise<Record<string, number>>) => {
      const t = Date.now();
      const counts = await recordJobRun(handle.db, job, 'demo', fn);
      say(`demo: ${job} done in ${Date.now() - t} ms ${JSON.stringify(counts)}`);
      return counts;
    };
    const counts = {
      sync: await stage('sync', () => runSync(rt.stage('sync', controller.signal), { env: world.env })),
      classify: await stage('classify', () =>
        runClassify(rt.stage('classify', controller.signal), { reclassify: false }),
      ),
      export: await stage('export', () =>
        runExport(rt.stage('export', controller.signal), { setup: false, dryRun: false }),
      ),
    };

    const list = listConversations(handle.sqlite);
    opts.io.out(`\nConversations of ${scenario.company}'s day (${list.length})\n${conversationsTable(list)}\n`);
    opts.io.out(`\nIn Twenty now\n${twentyTables(world.twenty)}\n`);
    writeFileSync(reportPath, renderReport(rt, realNow));
    opts.io.out(`\nReport: ${reportPath}\n`);
    say(`demo: finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (opts.keep) {
      say(
        `demo: --keep: bridge ${server.url} (report page ${server.url}/demo/report), homeserver ${world.hs.url}, Twenty ${world.twenty.url}; Ctrl-C to stop`,
      );
      await new Promise<void>((r) => opts.keep!.addEventListener('abort', () => r(), { once: true }));
    }
    if (opts.keep) await stop();
    return { world, runtime: rt, reportPath, counts, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function renderReport(rt: Runtime, now: number): string {
  return buildReport(rt.database().sqlite, {
    format: 'html',
    timezone: rt.config.report.timezone,
    unansweredAfterMs: parseDuration(rt.config.twenty.unanswered_after) ?? 4 * 3_600_000,
    now,
  }).body;
}
