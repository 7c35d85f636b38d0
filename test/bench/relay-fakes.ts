/**
 * The other side of the relay benchmark: the fake Wazo and the fake homeserver, in a child process on other
 * cores than the bridge (or a worker thread where cores cannot be pinned), so that the bridge's core holds only
 * the bridge. Commands arrive as messages; every ghost message the homeserver stores is reported back with its
 * absolute time (performance.timeOrigin + now, comparable across processes).
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';
import { type FakeMessage, type FakeRoom, FakeWazo } from '../../src/testing/fake-wazo/index.ts';

// A worker thread of the bench, or a child process pinned to other cores than the bridge (relay.bench.ts).
const inProcess = process.env.MCB_BENCH_FAKES;
const {
  rooms: ROOMS,
  domain,
  secret,
} = (inProcess ? JSON.parse(inProcess) : workerData) as {
  rooms: number;
  domain: string;
  secret: string;
};
const port = inProcess
  ? {
      postMessage: (m: unknown) => void process.send!(m),
      on: (e: 'message', fn: (m: Record<string, unknown>) => void) => void process.on(e, fn),
      close: () => process.disconnect(),
    }
  : parentPort!;
const abs = () => performance.timeOrigin + performance.now();

const hs = await new FakeHomeserver({ serverName: domain, pusher: { baseDelayMs: 5, maxDelayMs: 50 } }).start();
// The homeserver records requests for test assertions; the benchmark needs none (and they would grow).
hs.requests.push = () => 0;
const wazo = await new FakeWazo({
  record: false,
  webhookRetryDelayMs: () => 10,
  webhookConcurrency: Number(process.env.MCB_BENCH_WEBHOOK_CONCURRENCY ?? 8),
}).start();
wazo.addUser({ username: 'svc', password: 'svc', purpose: 'external_api' });
const rooms: FakeRoom[] = [];
for (let i = 0; i < ROOMS; i++) {
  const a = wazo.addUser({ username: `customer${i}`, firstname: `Customer${i}` });
  const b = wazo.addUser({ username: `agent${i}`, firstname: `Agent${i}` });
  const room: FakeRoom = {
    uuid: randomUUID(),
    tenant_uuid: wazo.state.tenantUuid,
    name: null,
    users: [a, b].map((u) => ({
      uuid: u.uuid,
      tenant_uuid: wazo.state.tenantUuid,
      wazo_uuid: wazo.state.wazoUuid,
      identity: null,
    })),
  };
  wazo.state.rooms.set(room.uuid, room);
  rooms.push(room);
}
// Stored messages are reported in batches (one postMessage per turn), to keep the measuring cheap for the
// bridge's thread, which receives them.
let stored: { uuid: string; at: number }[] = [];
hs.model.listeners.push((ev) => {
  if (ev.type !== 'm.room.message' || !ev.sender.startsWith('@wazo_')) return;
  if (stored.length === 0)
    setImmediate(() => {
      port.postMessage({ type: 'stored', items: stored });
      stored = [];
    });
  stored.push({ uuid: String(ev.content.body).slice(-36), at: abs() });
});

function publishOne(n: number): void {
  const room = rooms[n % ROOMS]!;
  const uuid = randomUUID();
  const msg: FakeMessage = {
    uuid,
    content: `message ${n} about the **order** status, see https://example.org/o/${n} ${uuid}`,
    alias: null,
    user_uuid: room.users[n % 2]!.uuid,
    tenant_uuid: wazo.state.tenantUuid,
    wazo_uuid: wazo.state.wazoUuid,
    created_at: wazo.state.createdAt(),
    room: { uuid: room.uuid },
    delivery: { type: 'internal', backend: null, recipients: [] },
  };
  wazo.state.publish('chatd_user_room_message_created', room, msg, `rooms.${room.uuid}.messages.created`);
}

port.on('message', (m: Record<string, unknown>) => {
  if (m.type === 'appservice')
    hs.registerAppservice(m.registration as Parameters<FakeHomeserver['registerAppservice']>[0]);
  else if (m.type === 'webhook') {
    wazo.state.subscriptions.set('bench', {
      uuid: 'bench',
      name: 'bench',
      service: 'http',
      events: ['chatd_user_room_message_created'],
      events_user_uuid: null,
      events_wazo_uuid: null,
      config: {
        url: `${m.url as string}/wazo/events/${secret}`,
        method: 'post',
        content_type: 'application/json',
        body: '{"event": "{{ event_name }}", "data": {{ event|tojson }}}',
      },
      metadata: {},
      owner_tenant_uuid: wazo.state.tenantUuid,
      owner_user_uuid: null,
    });
  } else if (m.type === 'publish') {
    for (const n of m.ns as number[]) publishOne(n);
  } else if (m.type === 'pace') {
    // Open-loop load, generated here on the fakes' own clock so that the bridge's event loop cannot slow it.
    const { first, count, rate } = m as unknown as { first: number; count: number; rate: number };
    const t0 = performance.now();
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) publishOne(first + sent++);
      if (sent >= count) clearInterval(timer);
    }, 1);
  } else if (m.type === 'cpu') {
    // The fakes' CPU time (µs), to tell whether they, not the bridge, bound a run.
    const c = inProcess ? process.cpuUsage() : process.threadCpuUsage();
    port.postMessage({ type: 'cpu', us: c.user + c.system });
  } else if (m.type === 'stop') {
    void (async () => {
      await wazo.close();
      await hs.stop();
      port.postMessage({ type: 'stopped', rss: process.memoryUsage().rss });
      port.close();
      if (inProcess) setTimeout(() => process.exit(0), 50).unref();
    })();
  }
});
port.postMessage({ type: 'ready', hsUrl: hs.url, wazoUrl: wazo.url, websocketUrl: wazo.websocketUrl });
