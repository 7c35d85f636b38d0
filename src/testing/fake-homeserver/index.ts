/**
 * A fake Matrix homeserver for tests and the demo: a real HTTP server on 127.0.0.1 (port 0 by default)
 * implementing the Client-Server endpoints we call, validated against the Matrix spec v1.19 files, plus
 * Synapse-like appservice pushing. Failures can be injected (`fail()`), requests are recorded.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { MatrixSpec } from '../matrix-spec/index.ts';
import { buildApp, type FailureRule, type RecordedRequest } from './app.ts';
import { type AppserviceRegistration, HomeserverModel } from './model.ts';
import { AppservicePusher, type PusherOptions } from './pusher.ts';
import { readRoutes } from './read-routes.ts';
import { coreRoutes } from './routes.ts';
import { syncRoutes } from './sync-routes.ts';

export { type Caller, type Ctx, err, type FailureRule, type RecordedRequest, roomFor } from './app.ts';
export { type AppserviceRegistration, type FakeEvent, type FakeRoom, type FakeUser, HomeserverModel } from './model.ts';

let sharedSpec: MatrixSpec | undefined;
/** The parsed spec is immutable: load it once per process (it takes a few hundred ms). */
export function matrixSpec(): MatrixSpec {
  sharedSpec ??= new MatrixSpec();
  return sharedSpec;
}

export interface FakeHomeserverOptions {
  serverName?: string;
  clock?: () => number;
  pusher?: PusherOptions;
  port?: number;
  /** Version of rooms created without `room_version` (Synapse's `default_room_version`); default `11`. */
  defaultRoomVersion?: string;
}

export class FakeHomeserver {
  readonly model: HomeserverModel;
  readonly requests: RecordedRequest[] = [];
  readonly failures: FailureRule[] = [];
  readonly pusher: AppservicePusher;
  readonly app: ReturnType<typeof buildApp>;
  #server: ReturnType<typeof serve> | undefined;
  #url = '';

  constructor(opts: FakeHomeserverOptions = {}) {
    this.model = new HomeserverModel(opts.serverName ?? 'localhost', opts.clock);
    if (opts.defaultRoomVersion) this.model.defaultRoomVersion = opts.defaultRoomVersion;
    this.pusher = new AppservicePusher(this.model, opts.pusher);
    this.app = buildApp(this.model, matrixSpec(), this, (app) => {
      coreRoutes(app, this.model, {
        pingAppservice: (id, txn) => {
          const as = this.model.appservices.find((a) => a.id === id)!;
          return this.pusher.ping(as, txn);
        },
      });
      readRoutes(app, this.model);
      syncRoutes(app, this.model);
    });
  }

  get url(): string {
    return this.#url;
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server = serve({ fetch: this.app.fetch, hostname: '127.0.0.1', port }, (info: AddressInfo) => {
        this.#url = `http://127.0.0.1:${info.port}`;
        resolve();
      });
      this.#server.once('error', reject);
    });
    return this;
  }

  async stop(): Promise<void> {
    this.pusher.stop();
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      if ('closeAllConnections' in s) (s as unknown as { closeAllConnections(): void }).closeAllConnections();
    });
  }

  /** Loads an appservice registration (as the admin would in homeserver.yaml). */
  registerAppservice(reg: AppserviceRegistration): void {
    this.model.addAppservice(reg);
  }

  /** Makes the next `times` requests matching `path` (and `method`) fail with `status` and `body`. */
  fail(rule: Partial<FailureRule> & { path: RegExp; status: number }): FailureRule {
    const r: FailureRule = { times: 1, ...rule };
    this.failures.push(r);
    return r;
  }

  /** A 429 in the spec's shape, with both `retry_after_ms` and a `Retry-After` header. */
  rateLimit(path: RegExp, retryAfterMs: number, times = 1): FailureRule {
    return this.fail({
      path,
      status: 429,
      times,
      body: { errcode: 'M_LIMIT_EXCEEDED', error: 'Too Many Requests', retry_after_ms: retryAfterMs },
      headers: { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) },
    });
  }

  /** Recorded requests whose path matches. */
  requestsTo(path: RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => path.test(r.path) && (!method || r.method === method));
  }
}
