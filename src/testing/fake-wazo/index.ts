/**
 * A fake Wazo Platform on one 127.0.0.1 port (HTTP, or HTTPS with `tls`): wazo-auth, wazo-chatd, wazo-confd,
 * wazo-webhookd (with real HTTP delivery to subscribers) and wazo-websocketd, behind the same
 * `/api/<daemon>/<version>` prefixes as nginx on a real Wazo, plus static files outside `/api` (`serveFile`).
 * Built for tests, the benchmark and the demo: it fans out one event per participant, can deliver out of order,
 * expires tokens on an injected clock, fails on demand and records every request.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { authRoutes } from './auth-routes.ts';
import { chatdRoutes } from './chatd-routes.ts';
import { confdRoutes } from './confd-routes.ts';
import { wazoError } from './errors.ts';
import { type BusEvent, envelope, type FakeUser, FakeWazoState } from './state.ts';
import { FakeWebsocketd } from './websocketd.ts';
import { type HookLog, MAX_ATTEMPTS, matches, renderTemplate, webhookdRoutes } from './webhookd.ts';
import { nodeFetch } from '../../matrix/fetch.ts';
import { createRng } from '../../rng.ts';

export type { FakeMessage, FakeRoom, FakeUser } from './state.ts';
export type Daemon = 'auth' | 'chatd' | 'confd' | 'webhookd' | 'websocketd';

export interface RecordedRequest {
  daemon: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
  token: string | undefined;
  tenant: string | undefined;
}

export interface FakeWazoOptions {
  now?: () => number;
  /** Deliver events in a random order (seeded): fan-out copies and, with manual delivery, whole batches. */
  unordered?: boolean;
  seed?: number;
  /** `manual`: events wait in a queue until `flush()`; `immediate` (default): delivered right after publish. */
  delivery?: 'immediate' | 'manual';
  /** Delay before webhook retry n (1-based). Default: Wazo's 2^(n-1) s. */
  webhookRetryDelayMs?: (attempt: number) => number;
  /** Concurrent webhook requests, like webhookd's Celery workers (default 5). */
  webhookConcurrency?: number;
  /** Keep request bodies in `requests` (off in the benchmark to save memory). Default true. */
  record?: boolean;
  /** Serve HTTPS (and wss) with this key and certificate, like a lab Wazo with a self-signed certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export class FakeWazo {
  readonly state: FakeWazoState;
  readonly websocketd: FakeWebsocketd;
  readonly requests: RecordedRequest[] = [];
  readonly hookLogs: HookLog[] = [];
  url = '';
  unordered: boolean;
  delivery: 'immediate' | 'manual';
  readonly #retryDelay: (attempt: number) => number;
  readonly #record: boolean;
  readonly #hookSlots: number;
  readonly #tls: FakeWazoOptions['tls'];
  /** Static files served outside `/api`, as the Wazo host's web server may (links shared in chats). */
  readonly #files = new Map<string, { contentType: string; bytes: Uint8Array }>();
  #hookBusy = 0;
  readonly #hookWaiters: (() => void)[] = [];
  readonly #failures = new Map<Daemon, { status: number | 'hang'; remaining: number }>();
  #afterCommit: { status: number | 'hang'; remaining: number } | undefined;
  #queue: BusEvent[] = [];
  #inflight = new Set<Promise<void>>();
  #rand: () => number;
  #server: ReturnType<typeof serve> | undefined;
  #flushScheduled = false;

  constructor(opts: FakeWazoOptions = {}) {
    this.state = new FakeWazoState(opts.now ?? Date.now);
    this.websocketd = new FakeWebsocketd(this.state);
    this.unordered = opts.unordered ?? false;
    this.delivery = opts.delivery ?? 'immediate';
    this.#retryDelay = opts.webhookRetryDelayMs ?? ((n) => 2 ** (n - 1) * 1000);
    this.#record = opts.record ?? true;
    this.#hookSlots = opts.webhookConcurrency ?? 5;
    this.#tls = opts.tls;
    this.#rand = createRng(opts.seed ?? 42);
    this.state.onEvent((e) => this.#enqueue(e));
  }

  /** Starts listening on 127.0.0.1:0; `url` is then the Wazo base URL. */
  async start(): Promise<this> {
    const app = new Hono();
    app.use('/api/:daemon/*', async (c, next) => {
      const daemon = c.req.param('daemon') as Daemon;
      if (this.#record) {
        const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? '' : await c.req.raw.clone().text();
        const url = new URL(c.req.url);
        this.requests.push({
          daemon,
          method: c.req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body,
          token: c.req.header('x-auth-token'),
          tenant: c.req.header('wazo-tenant'),
        });
      }
      const f = this.#failures.get(daemon);
      if (f && f.remaining > 0) {
        f.remaining--;
        if (f.status === 'hang') return new Promise<Response>(() => undefined);
        return wazoError(c, f.status as 503, 'unexpected-error', 'Service unavailable');
      }
      await next();
    });
    app.route('/api/auth/0.1', authRoutes(this.state));
    app.route('/api/chatd/1.0', chatdRoutes(this.state, { afterCommit: () => this.#takeAfterCommit() }));
    app.route('/api/confd/1.1', confdRoutes(this.state));
    app.route('/api/webhookd/1.0', webhookdRoutes(this.state));
    app.get('*', (c) => {
      const file = this.#files.get(new URL(c.req.url).pathname);
      if (!file) return wazoError(c, 404, 'not-found', 'Not found');
      return c.body(file.bytes as unknown as ArrayBuffer, 200, {
        'content-type': file.contentType,
        'content-length': String(file.bytes.byteLength),
      });
    });
    app.notFound((c) => wazoError(c, 404, 'not-found', 'Not found'));
    await new Promise<void>((resolve) => {
      const tls = this.#tls;
      this.#server = tls
        ? serve(
            {
              fetch: app.fetch,
              hostname: '127.0.0.1',
              port: 0,
              createServer: createHttpsServer,
              serverOptions: { key: tls.key, cert: tls.cert },
            },
            () => resolve(),
          )
        : serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    const server = this.#server!;
    server.on('upgrade', (req, socket, head) => {
      const f = this.#failures.get('websocketd');
      if (!req.url?.startsWith('/api/websocketd') || (f && f.remaining > 0)) {
        if (f && f.remaining > 0) f.remaining--;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.websocketd.handleUpgrade(req, socket, head);
    });
    const port = (server.address() as AddressInfo).port;
    this.url = `${this.#tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  /** Serves `bytes` at `path` (outside `/api`) on the Wazo host, like a file shared by link in a chat. */
  serveFile(path: string, contentType: string, bytes: Uint8Array): void {
    if (!path.startsWith('/') || path.startsWith('/api/')) throw new Error(`not a file path outside /api: ${path}`);
    this.#files.set(path, { contentType, bytes });
  }

  /** ws:// (wss:// over TLS) URL of websocketd, as `[wazo] websocket_url` would name it. */
  get websocketUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/api/websocketd/`;
  }

  addUser(u: Partial<FakeUser> & { username: string }): FakeUser {
    return this.state.addUser(u);
  }

  /** The next `times` requests to `daemon` fail with `status` (or never answer with 'hang'). */
  failNext(daemon: Daemon, status: number | 'hang', times = 1): void {
    this.#failures.set(daemon, { status, remaining: times });
  }

  /** `daemon` answers `status` until `recover(daemon)`. */
  down(daemon: Daemon, status: number | 'hang' = 503): void {
    this.#failures.set(daemon, { status, remaining: Number.POSITIVE_INFINITY });
  }

  recover(daemon: Daemon): void {
    this.#failures.delete(daemon);
  }

  /** The next chatd POST message is stored and published, then answered with `status` (or not at all). */
  failAfterCommit(status: number | 'hang', times = 1): void {
    this.#afterCommit = { status, remaining: times };
  }

  #takeAfterCommit(): number | 'hang' | undefined {
    const f = this.#afterCommit;
    if (!f || f.remaining <= 0) return undefined;
    f.remaining--;
    return f.status;
  }

  /** Events waiting in the queue (manual delivery). */
  get queued(): number {
    return this.#queue.length;
  }

  #enqueue(e: BusEvent): void {
    this.#queue.push(e);
    if (this.delivery === 'immediate' && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#dispatch();
      });
    }
  }

  /** Delivers everything queued (shuffled when unordered) and waits until webhook deliveries have settled. */
  async flush(): Promise<void> {
    this.#dispatch();
    await this.idle();
  }

  /** Waits for in-flight webhook deliveries (and their retries). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #dispatch(): void {
    const batch = this.#queue;
    this.#queue = [];
    if (this.unordered) shuffle(batch, this.#rand);
    for (const e of batch) {
      this.websocketd.deliver(e);
      for (const sub of this.state.subscriptions.values()) {
        if (!matches(sub, e)) continue;
        const p = this.#deliverHook(sub.uuid, e).finally(() => this.#inflight.delete(p));
        this.#inflight.add(p);
      }
    }
  }

  async #deliverHook(subUuid: string, e: BusEvent): Promise<void> {
    if (this.#hookBusy >= this.#hookSlots) await new Promise<void>((r) => this.#hookWaiters.push(r));
    this.#hookBusy++;
    try {
      await this.#attemptHook(subUuid, e);
    } finally {
      this.#hookBusy--;
      this.#hookWaiters.shift()?.();
    }
  }

  async #attemptHook(subUuid: string, e: BusEvent): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const sub = this.state.subscriptions.get(subUuid);
      if (!sub) return;
      const url = renderTemplate(sub.config.url, e);
      const body = sub.config.body ? renderTemplate(sub.config.body, e) : JSON.stringify(e.data);
      const contentType = sub.config.body ? (sub.config.content_type ?? 'text/plain') : 'application/json';
      let status: number | null = null;
      try {
        // One connection per delivery, as webhookd's `requests.request` (no session) does.
        const res = await nodeFetch(url, {
          method: (sub.config.method ?? 'post').toUpperCase(),
          headers: { 'content-type': `${contentType}; charset=utf-8`, 'user-agent': 'python-requests/2.31.0' },
          body,
          keepAlive: false,
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        // Connection errors are retried like 5xx, as webhookd does; the log below records them.
        status = null;
      }
      const ok = status !== null && status >= 200 && status < 400;
      const log: HookLog = {
        subscription: subUuid,
        event: e.name,
        status: ok ? 'success' : status === null ? 'error' : 'failure',
        attempts: attempt,
        httpStatus: status,
      };
      this.hookLogs.push(log);
      if (ok || status === 410) return;
      const delay = this.#retryDelay(attempt);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Wire envelope of an event copy, as websocketd sends it (for tests building payloads by hand). */
  static envelope = envelope;

  async close(): Promise<void> {
    this.websocketd.close();
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ('closeAllConnections' in server) (server as { closeAllConnections(): void }).closeAllConnections();
    });
  }
}

function shuffle<T>(arr: T[], rand: () => number): void {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
}
