/**
 * `npm run bench -- sync`: stage 1 throughput. A child process serves 1,000 rooms × 200 events plus one room
 * of 200,000 events (fake homeserver, loopback); each measured phase runs in its own process so its peak RSS
 * is its own:
 * - `optimized`: the real `runSync` (prepared statements, one transaction per 1,000-event page, cursor in it);
 * - `naive`: the same pages fetched the same way, but one INSERT statement per event in autocommit mode,
 *   prepared each time (what a first, careless implementation does).
 * Prints events stored per second and peak RSS of each. Target: >= 30,000 events/s, RSS < 300 MB.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const [mode, url, token, userId, dbPath] = process.argv.slice(2);

if (mode === 'optimized' || mode === 'naive') {
  const { measure } = await import('./sync-phases.ts');
  const result = await measure(mode, { url: url!, token: token!, userId: userId!, dbPath: dbPath! });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const rooms = process.env.BENCH_ROOMS ?? '1000';
const perRoom = process.env.BENCH_PER_ROOM ?? '200';
const big = process.env.BENCH_BIG ?? '200000';
const server: ChildProcess = spawn(process.execPath, [join(here, 'sync-fake-server.ts'), rooms, perRoom, big], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const ready = await new Promise<{ url: string; token: string; userId: string; events: number }>((resolve, reject) => {
  createInterface({ input: server.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
  server.once('exit', (code) => reject(new Error(`fake homeserver exited with ${code}`)));
});
process.stdout.write(
  `fake homeserver ready: ${ready.events.toLocaleString('en')} message events in ${Number(rooms) + 1} rooms\n`,
);
const dir = mkdtempSync(join(tmpdir(), 'mcb-bench-sync-'));
// Schema first, here (dynamic import: the measured processes run this file too and must not load the ORM).
const { openDatabase } = await import('../../src/db/index.ts');
/**
 * Measured runs: the real sync as shipped (`npm start` and the Docker image run Node with
 * `--max-semi-space-size=8`), the same with default V8 flags, and the baseline.
 */
const PHASES: Record<string, { mode: 'optimized' | 'naive' | 'cli'; flags: string[] }> = {
  // The real command line, `matrix-crm-bridge sync`, in its own process (config file, drizzle, the whole CLI).
  cli: { mode: 'cli', flags: ['--max-semi-space-size=8'] },
  optimized: { mode: 'optimized', flags: ['--max-semi-space-size=8'] },
  'optimized-default-flags': { mode: 'optimized', flags: [] },
  'optimized-semi4': { mode: 'optimized', flags: ['--max-semi-space-size=4'] },
  naive: { mode: 'naive', flags: [] },
};
const phases = (process.env.BENCH_PHASES ?? 'optimized,cli,optimized-default-flags,naive').split(',');
for (const phase of phases) openDatabase(`sqlite:${join(dir, `${phase}.db`)}`).close();
const results: Record<string, { events: number; seconds: number; eventsPerSecond: number; peakRssMb: number }> = {};

/** `matrix-crm-bridge sync` as an operator runs it, with the benchmark's settings in a config file. */
function runCli(phase: string, flags: string[]) {
  const dbFile = join(dir, `${phase}.db`);
  const configFile = join(dir, `${phase}.toml`);
  writeFileSync(
    configFile,
    [
      '[homeserver]',
      `url = "${ready.url}"`,
      'domain = "bench.example"',
      '[database]',
      `url = "sqlite:${dbFile}"`,
      '[logging]',
      'level = "warn"',
      '[sync]',
      'backfill_days = 0',
      `page_size = ${Number(process.env.BENCH_PAGE ?? 1000)}`,
      '[[sync.accounts]]',
      `user_id = "${ready.userId}"`,
      'access_token_env = "BENCH_TOKEN"',
      '',
    ].join('\n'),
  );
  const bin = fileURLToPath(new URL('../../bin/matrix-crm-bridge.mjs', import.meta.url));
  const reporter = new URL('./report-rss.mjs', import.meta.url).href;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...flags, `--import=${reporter}`, bin, '--config', configFile, 'sync'], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_TOKEN: ready.token },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${phase}: sync exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const rss = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{"benchPeakRssMb"'))
    .map((l) => (JSON.parse(l) as { benchPeakRssMb: number }).benchPeakRssMb);
  const check = openDatabase(`sqlite:${dbFile}`);
  const events = (check.sqlite.prepare('select count(*) as n from history_events').get() as { n: number }).n;
  check.close();
  return { events, seconds, eventsPerSecond: events / seconds, peakRssMb: Math.max(...rss) };
}
try {
  for (const phase of phases) {
    const spec = PHASES[phase];
    if (!spec) throw new Error(`unknown phase ${phase}; known: ${Object.keys(PHASES).join(', ')}`);
    if (spec.mode === 'cli') {
      results[phase] = runCli(phase, spec.flags);
      const x = results[phase]!;
      process.stdout.write(
        `${phase.padEnd(16)} ${x.events.toLocaleString('en')} events in ${x.seconds.toFixed(1)} s = ${Math.round(x.eventsPerSecond).toLocaleString('en')} events/s, peak RSS ${x.peakRssMb.toFixed(0)} MB\n`,
      );
      continue;
    }
    const r = spawnSync(
      process.execPath,
      [
        ...spec.flags,
        fileURLToPath(import.meta.url),
        spec.mode,
        ready.url,
        ready.token,
        ready.userId,
        join(dir, `${phase}.db`),
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      },
    );
    if (r.status !== 0) throw new Error(`${phase} phase failed (exit ${r.status})`);
    results[phase] = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const x = results[phase]!;
    process.stdout.write(
      `${phase.padEnd(16)} ${x.events.toLocaleString('en')} events in ${x.seconds.toFixed(1)} s = ${Math.round(x.eventsPerSecond).toLocaleString('en')} events/s, peak RSS ${x.peakRssMb.toFixed(0)} MB\n`,
    );
  }
  const o = results.optimized;
  const n = results.naive;
  if (o && n)
    process.stdout.write(
      `speed-up ${(o.eventsPerSecond / n.eventsPerSecond).toFixed(1)}x; target >= 30,000 events/s: ${o.eventsPerSecond >= 30_000 ? 'met' : 'NOT met'}; ` +
        `RSS < 300 MB: ${o.peakRssMb < 300 ? 'met' : 'NOT met'} (as shipped, --max-semi-space-size=8)` +
        `${results['optimized-default-flags'] ? `, ${results['optimized-default-flags'].peakRssMb < 300 ? 'met' : 'NOT met'} with default V8 flags` : ''}\n`,
    );
} finally {
  server.stdin!.end();
  rmSync(dir, { recursive: true, force: true });
}
