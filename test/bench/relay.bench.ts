/**
 * `npm run bench -- relay`: 10,000 Wazo messages across 100 rooms, through the websocket and then through
 * the webhook, into the fake homeserver (bridge core + Wazo connector + appservice routes, file SQLite in WAL
 * mode). The fake Wazo fans out one copy per participant (2 per message), as chatd does. Reports messages/s,
 * p50/p99 bridge-added latency from the first copy entering the connector, minus time held in the reorder
 * window: to "Matrix send out" (the bridge issues the ghost's `PUT /send`), to the homeserver storing the
 * message (adds the fake homeserver's own time), and to the core having queued it (the connector's share),
 * the bridge thread's CPU per message, SQLite commits per message, and peak RSS. Each feed runs twice: closed
 * loop with many messages in flight (saturation throughput), then open loop at a fixed offered rate (latency
 * at that load; `MCB_BENCH_WEBSOCKET_RATE`, default 2000, `MCB_BENCH_WEBHOOK_RATE`, default 500).
 * `MCB_BENCH_RELAY_MODE=websocket|webhook` runs one feed, `MCB_BENCH_RELAY_LOAD=saturation|open` one load;
 * `MCB_BENCH_WEBHOOK_CONCURRENCY` sets the fake webhookd's parallel deliveries (default 8). "On one core": the
 * bridge's process is pinned to core 0 with `taskset` and the fakes (relay-fakes.ts) run in a child process on
 * the other cores (without `taskset`, on one core, or with `MCB_BENCH_PIN=0`: in a worker thread). Peak RSS is
 * the bridge's process. Each result line also says how busy the bridge's thread, its process and the fakes
 * were, to tell which side bounded the run.
 */
import { randomBytes } from 'node:crypto';
import { type Serializable, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Bridge } from '../../src/bridge/index.ts';
import { groupCommit, openDatabase, startWalCheckpointer } from '../../src/db/index.ts';
import { createAppserviceApp } from '../../src/http/appservice.ts';
import { silentLogger } from '../../src/log.ts';
import { MatrixApi } from '../../src/matrix/index.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createWebhookApp, sqliteCursor, sqliteInbox, WazoConnector } from '../../src/wazo/index.ts';

const MESSAGES = 10_000;
const ROOMS = 100;
const SECRET = 'bench-webhook-secret-0123456789abcdef';
const DOMAIN = 'localhost';

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);

const abs = () => performance.timeOrigin + performance.now();

/**
 * "On one core": where `taskset` exists and the machine has ≥ 2 cores, this process (the bridge, with its
 * checkpoint worker, libuv pool and GC helper threads) is pinned to core 0 and the fakes run in a child
 * process on the other cores, so that the fakes never take the bridge's core. Elsewhere (or with
 * `MCB_BENCH_PIN=0`) the fakes run in a worker thread of this process.
 */
const CORES = availableParallelism(); // read before pinning, which would make it 1
const PINNED =
  process.env.MCB_BENCH_PIN !== '0' &&
  CORES >= 2 &&
  spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;

interface FakesChannel {
  postMessage(m: unknown): void;
  on(event: 'message', fn: (m: never) => void): void;
  off(event: 'message', fn: (m: never) => void): void;
  close(): Promise<void>;
}

/** The fakes stopping before `close()` (a crash, an exception) ends the benchmark: its numbers would be void. */
function fakesDied(what: string): never {
  process.stderr.write(`relay bench: the fakes ${what}\n`);
  process.exit(1);
}

function startFakes(): FakesChannel {
  const data = { rooms: ROOMS, domain: DOMAIN, secret: SECRET };
  const script = fileURLToPath(new URL('./relay-fakes.ts', import.meta.url));
  let closing = false;
  if (!PINNED) {
    const w = new Worker(script, { workerData: data });
    w.once('error', (err) => fakesDied(`failed: ${err.stack ?? err.message}`));
    w.once('exit', (code) => closing || fakesDied(`exited (${code})`));
    return {
      postMessage: (m) => w.postMessage(m),
      on: (e, fn) => void w.on(e, fn as (m: unknown) => void),
      off: (e, fn) => void w.off(e, fn as (m: unknown) => void),
      close: async () => {
        closing = true;
        await w.terminate();
      },
    };
  }
  const child = spawn('taskset', ['-c', `1-${CORES - 1}`, process.execPath, ...process.execArgv, script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, MCB_BENCH_FAKES: JSON.stringify(data) },
  });
  child.once('error', (err) => fakesDied(`could not start: ${err.message}`));
  const exited = new Promise<void>((r) =>
    child.once('exit', (code) => (closing ? r() : fakesDied(`process exited (${code})`))),
  );
  return {
    postMessage: (m) => void child.send(m as Serializable),
    on: (e, fn) => void child.on(e, fn as (m: unknown) => void),
    off: (e, fn) => void child.off(e, fn as (m: unknown) => void),
    close: async () => {
      closing = true;
      child.disconnect();
      await exited;
    },
  };
}

/** Closed loop (at most `inFlight` messages in the system: saturation throughput) or open loop at `rate` msgs/s. */
type Load = { inFlight: number } | { rate: number };

async function run(mode: 'websocket' | 'webhook', load: Load) {
  const dir = mkdtempSync(join(tmpdir(), 'mcb-bench-relay-'));
  const fakes = startFakes();
  const ready = await new Promise<{ hsUrl: string; wazoUrl: string; websocketUrl: string }>((resolve) => {
    fakes.on('message', (m: { type: string; hsUrl: string; wazoUrl: string; websocketUrl: string }) => {
      if (m.type === 'ready') resolve(m);
    });
  });
  const asToken = randomBytes(32).toString('hex');
  const hsToken = randomBytes(32).toString('hex');
  const held = new Map<string, number>();
  /** When the first copy reached the connector ("event in"). */
  const inAt = new Map<string, number>();
  const latencies: number[] = [];
  const queuedLat: number[] = [];
  /** Event in → the bridge sends it to the homeserver (`PUT /send` issued): the "Matrix send out". */
  const sentLat: number[] = [];
  let done = 0;
  let wake: (() => void) | undefined;
  const handle = openDatabase(`sqlite:${join(dir, 'bridge.db')}`);
  // As `start` runs it: WAL checkpoints in a worker thread, off the event loop.
  const checkpointer = startWalCheckpointer(handle, { log: silentLogger });
  const connector = new WazoConnector({
    wazo: {
      url: ready.wazoUrl,
      websocket_url: ready.websocketUrl,
      events: mode,
      public_url: '',
      manage_subscription: false,
      client_id: 'matrix-crm-bridge',
      verify_tls: true,
      tenant: '',
      bridge_all_rooms: true,
      reorder_window_ms: undefined,
      service_username: 'svc',
      service_password: 'svc',
      relay_username: undefined,
      relay_password: undefined,
      webhook_secret: SECRET,
    },
    bridge: {
      relay: false,
      permissions: {},
      double_puppet: { enabled: false, registration: '' },
      media: false,
      media_hosts: [],
      reactions: false,
      public_media_url: '',
      encryption_key: randomBytes(32).toString('base64'),
    },
    log: silentLogger,
    cursor: sqliteCursor(handle, Date.now),
    inbox: sqliteInbox(handle, Date.now),
    onEmit: (uuid, heldMs) => held.set(uuid, heldMs),
    onReceive: (uuid) => {
      if (!inAt.has(uuid)) inAt.set(uuid, abs());
    },
    onQueued: (uuid) => {
      const t = inAt.get(uuid);
      if (t !== undefined) queuedLat.push(abs() - t - (held.get(uuid) ?? 0));
    },
  });
  const api = new MatrixApi({ baseUrl: ready.hsUrl, asToken, botUserId: `@crmbridge:${DOMAIN}`, timeoutMs: 5000 });
  // Marks "Matrix send out": the moment the bridge issues the ghost's `PUT /send` (the body ends with the uuid).
  const request = api.request.bind(api);
  const sentOut = new Set<string>();
  api.request = ((method, path, opts) => {
    if (method === 'PUT' && path.includes('/send/m.room.message/')) {
      const uuid = String((opts?.body as { body?: unknown } | undefined)?.body ?? '').slice(-36);
      const t = inAt.get(uuid);
      if (t !== undefined && !sentOut.has(uuid)) {
        sentOut.add(uuid);
        sentLat.push(abs() - t - (held.get(uuid) ?? 0));
      }
    }
    return request(method, path, opts);
  }) as MatrixApi['request'];
  const bridge = new Bridge({
    database: handle,
    api,
    connector,
    log: silentLogger,
    metrics: createMetricsRegistry(),
    options: {
      domain: DOMAIN,
      appserviceId: 'mcb',
      botLocalpart: 'crmbridge',
      ghostPrefix: 'wazo_',
      hsToken,
      permissions: {},
      relay: false,
      reactions: false,
      publicMediaUrl: '',
    },
  });
  const app = new Hono();
  app.route(
    '/wazo',
    createWebhookApp({ secret: SECRET, handle: (e) => connector.handleWebhookEvent(e), log: silentLogger }),
  );
  app.route('/', createAppserviceApp({ hsToken, handler: bridge, log: silentLogger }));
  const server = await new Promise<ReturnType<typeof serve>>((r) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => r(s));
  });
  const port = (server.address() as AddressInfo).port;
  fakes.postMessage({
    type: 'appservice',
    registration: {
      id: 'mcb',
      url: `http://127.0.0.1:${port}`,
      as_token: asToken,
      hs_token: hsToken,
      sender_localpart: 'crmbridge',
      namespaces: {
        users: [
          { regex: `^@crmbridge:${DOMAIN}$`, exclusive: true },
          { regex: `^@wazo_.*:${DOMAIN}$`, exclusive: true },
        ],
      },
      rate_limited: false,
    },
  });
  if (mode === 'webhook') fakes.postMessage({ type: 'webhook', url: `http://127.0.0.1:${port}` });
  const controller = new AbortController();
  await bridge.start(controller.signal);
  if (mode === 'websocket') while (!connector.streaming) await new Promise((r) => setTimeout(r, 5));

  fakes.on('message', (m: { type: string; items: { uuid: string; at: number }[] }) => {
    if (m.type !== 'stored') return;
    for (const { uuid, at } of m.items) {
      const t = inAt.get(uuid);
      if (t === undefined) continue;
      inAt.delete(uuid);
      latencies.push(at - t - (held.get(uuid) ?? 0));
      held.delete(uuid);
      done++;
    }
    wake?.();
  });

  const publish = (ns: number[]) => fakes.postMessage({ type: 'publish', ns });

  // Warm-up: the first message of each room creates its portal (room, state, ghosts); not measured.
  publish(Array.from({ length: ROOMS * 2 }, (_, n) => n));
  while (done < ROOMS * 2) await new Promise<void>((r) => (wake = r));
  latencies.length = 0;
  queuedLat.length = 0;
  sentLat.length = 0;
  sentOut.clear();
  done = 0;

  const fakesCpu = () =>
    new Promise<number>((resolve) => {
      const on = (m: { type: string; us: number }) => {
        if (m.type !== 'cpu') return;
        fakes.off('message', on);
        resolve(m.us);
      };
      fakes.on('message', on);
      fakes.postMessage({ type: 'cpu' });
    });
  const fakes0 = await fakesCpu();
  const t0 = performance.now();
  const cpu0 = process.threadCpuUsage();
  const proc0 = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const commits0 = groupCommit(handle.sqlite).commits;
  let sent = 0;
  if ('rate' in load) {
    // Open loop: the fakes' thread publishes at the offered rate whatever the bridge does (no coordinated
    // omission, and no pacing timer on the measured thread).
    fakes.postMessage({ type: 'pace', first: ROOMS * 2, count: MESSAGES, rate: load.rate });
    while (done < MESSAGES) await new Promise<void>((r) => (wake = r));
  } else {
    while (done < MESSAGES) {
      const ns: number[] = [];
      while (sent < MESSAGES && sent - done < load.inFlight) ns.push(ROOMS * 2 + sent++);
      if (ns.length > 0) publish(ns);
      await new Promise<void>((r) => (wake = r));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.threadCpuUsage(cpu0);
  const proc = process.cpuUsage(proc0);
  const fakesUs = (await fakesCpu()) - fakes0;
  loopDelay.disable();
  const commitsPerMessage = (groupCommit(handle.sqlite).commits - commits0) / MESSAGES;
  /** CPU time of the bridge's thread per message (user + system): what bounds throughput on one core. */
  const cpuUsPerMessage = Math.round((cpu.user + cpu.system) / MESSAGES);
  latencies.sort((a, b) => a - b);
  queuedLat.sort((a, b) => a - b);
  sentLat.sort((a, b) => a - b);
  const at = (arr: number[], p: number) => arr[Math.min(arr.length - 1, Math.floor((p / 100) * arr.length))];
  const pct = (p: number) => at(latencies, p);
  const result = {
    mode,
    messages: MESSAGES,
    rooms: ROOMS,
    load: 'rate' in load ? `offered ${load.rate} msgs/s` : `≤ ${load.inFlight} in flight`,
    perSecond: Math.round(MESSAGES / seconds),
    cpuUsPerMessage,
    /** Share of one core used by the bridge's thread, the fakes' thread, and the whole process (all threads). */
    busy: {
      bridge: (cpu.user + cpu.system) / 1e6 / seconds,
      fakes: fakesUs / 1e6 / seconds,
      process: (proc.user + proc.system) / 1e6 / seconds,
    },
    commitsPerMessage,
    loopP99: loopDelay.percentile(99) / 1e6,
    loopMax: loopDelay.max / 1e6,
    p50: pct(50),
    p99: pct(99),
    s50: at(sentLat, 50),
    s99: at(sentLat, 99),
    q50: at(queuedLat, 50),
    q99: at(queuedLat, 99),
    window: connector.reorderWindowMs,
  };

  controller.abort();
  await bridge.stop();
  await new Promise<void>((r) => {
    server.close(() => r());
    (server as unknown as { closeAllConnections(): void }).closeAllConnections();
  });
  await new Promise<void>((r) => {
    fakes.on('message', (m: { type: string }) => {
      if (m.type === 'stopped') r();
    });
    fakes.postMessage({ type: 'stop' });
  });
  await fakes.close();
  await checkpointer?.stop();
  handle.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const only = process.env.MCB_BENCH_RELAY_MODE;
const results: Awaited<ReturnType<typeof run>>[] = [];
// Saturation (how many messages/s the bridge absorbs), then latency at a fixed offered rate. The webhook runs
// keep 2,000 in flight because each message sits 300 ms in the reorder window.
const loads = process.env.MCB_BENCH_RELAY_LOAD; // saturation | open (default both)
if (only !== 'webhook') {
  if (loads !== 'open') results.push(await run('websocket', { inFlight: 256 }));
  if (loads !== 'saturation')
    results.push(await run('websocket', { rate: Number(process.env.MCB_BENCH_WEBSOCKET_RATE ?? 2000) }));
}
if (only !== 'websocket') {
  if (loads !== 'open') results.push(await run('webhook', { inFlight: 2000 }));
  if (loads !== 'saturation')
    results.push(await run('webhook', { rate: Number(process.env.MCB_BENCH_WEBHOOK_RATE ?? 500) }));
}
clearInterval(sampler);
for (const r of results) {
  process.stdout.write(
    `${r.mode.padEnd(9)} ${r.messages} msgs / ${r.rooms} rooms (${r.load}, reorder window ${r.window} ms): ` +
      `${r.perSecond} msgs/s (bridge thread CPU ${r.cpuUsPerMessage} µs/msg, ${r.commitsPerMessage.toFixed(2)} SQLite commits/msg); ` +
      `event in → Matrix send out: p50 ${r.s50.toFixed(1)} ms, p99 ${r.s99.toFixed(1)} ms; ` +
      `→ stored by the homeserver: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; ` +
      `→ queued on the core: p50 ${r.q50.toFixed(1)} ms, p99 ${r.q99.toFixed(1)} ms; ` +
      `event-loop delay p99 ${r.loopP99.toFixed(1)} ms, max ${r.loopMax.toFixed(1)} ms; ` +
      `cores busy: bridge thread ${r.busy.bridge.toFixed(2)}, ` +
      (PINNED
        ? `bridge process ${r.busy.process.toFixed(2)} (pinned to core 0), fakes process ${r.busy.fakes.toFixed(2)} (cores 1-${CORES - 1})\n`
        : `fakes thread ${r.busy.fakes.toFixed(2)}, whole process ${r.busy.process.toFixed(2)} of ${CORES}\n`),
  );
}
process.stdout.write(`peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB\n`);
setTimeout(() => process.exit(0), 100).unref();
