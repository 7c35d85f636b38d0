/**
 * The hono application: health, metrics, error handling and the sub-apps of the other parts
 * (the appservice API, the Wazo webhook, the report). Built without a socket so tests can drive it
 * with `app.request()`.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError } from '../errors.ts';
import type { HealthRegistry } from '../health.ts';
import type { Logger } from '../log.ts';
import { Counter, getOrCreate, type Registry } from '../metrics.ts';

export interface AppDeps {
  version: string;
  health: HealthRegistry;
  metrics: Registry;
  log: Logger;
  maxBodyBytes: number;
  /** Returns false when the database cannot answer a trivial query. */
  databaseOk: () => boolean;
  /** Sub-apps mounted at their path (`/_matrix/app/v1`, `/wazo`, ...). */
  mounts?: Mount[];
}

/**
 * A route that must accept bodies up to `minBytes` whatever `maxBodyBytes` says: the peer sends them anyway and
 * would only retry a 413 (the homeserver's appservice transactions).
 */
export interface BodyLimitFloor {
  path: RegExp;
  minBytes: number;
}

export interface Mount {
  path: string;
  app: Hono;
  /** Paths (as requested, mount path included) whose body limit is at least `minBytes`. */
  bodyLimits?: readonly BodyLimitFloor[];
}

/** Matrix-style error body. */
export function errorBody(errcode: string, error: string): { errcode: string; error: string } {
  return { errcode, error };
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const requests = getOrCreate(
    deps.metrics,
    'mcb_http_requests_total',
    () =>
      new Counter({
        name: 'mcb_http_requests_total',
        help: 'HTTP requests served, by status',
        labelNames: ['status'],
        registers: [deps.metrics],
      }),
  );
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) => c.json(errorBody('M_TOO_LARGE', `request body larger than ${maxSize} bytes`), 413),
    });
  const byDefault = limit(deps.maxBodyBytes);
  const floors = (deps.mounts ?? [])
    .flatMap((m) => m.bodyLimits ?? [])
    .filter((f) => f.minBytes > deps.maxBodyBytes)
    .map((f) => ({ path: f.path, check: limit(f.minBytes) }));
  app.use('*', (c, next) =>
    (floors.length > 0 ? (floors.find((f) => f.path.test(c.req.path))?.check ?? byDefault) : byDefault)(c, next),
  );
  app.use('*', async (c, next) => {
    await next();
    requests.inc({ status: String(c.res.status) });
  });

  app.get('/health', (c) => {
    const dbOk = safeDbCheck(deps.databaseOk);
    const upstreams = deps.health.snapshot();
    const down = Object.values(upstreams).some((u) => u.configured && u.state === 'down');
    const status = !dbOk ? 'unhealthy' : down ? 'degraded' : 'ok';
    return c.json({ status, version: deps.version, database: { ok: dbOk }, upstreams }, dbOk ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const text = await deps.metrics.metrics();
    return c.text(text, 200, { 'content-type': deps.metrics.contentType });
  });

  for (const m of deps.mounts ?? []) app.route(m.path, m.app);

  app.notFound((c) => c.json(errorBody('M_UNRECOGNIZED', 'Unrecognized request'), 404));
  app.onError((err, c) => {
    if (err instanceof AppError && err.status < 500) {
      return c.json(errorBody(err.errcode, err.message), err.status as ContentfulStatusCode);
    }
    if (err instanceof AppError && err.code === 'EVENT_IGNORED') return c.json({}, 200);
    deps.log.error({ err, path: c.req.path, method: c.req.method }, 'request failed');
    return c.json(errorBody('M_UNKNOWN', 'Internal server error'), 500);
  });
  return app;
}

function safeDbCheck(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    // A throwing check means the database is unusable: reported as not ok, never as a crash of /health.
    return false;
  }
}
