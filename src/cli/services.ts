/**
 * Composition of the long-running parts that `start` (and the demo) run next to the HTTP server:
 * each part contributes hono sub-apps and a start/stop pair. The parts are wired here, in the
 * composition root, so that they never import one another.
 */
import type { Hono } from 'hono';
import { SECTION_NAMES, type SectionName } from '../config/index.ts';
import { createApp, type Mount } from '../http/index.ts';
import type { NetworkConnector } from '../bridge/index.ts';
import { appserviceService } from './appservice-service.ts';
import { reportService } from './report-service.ts';
import { type Runtime, VERSION } from './runtime.ts';
import { wazoPart } from './wazo-service.ts';

export interface Service {
  readonly name: string;
  /** Sub-apps to mount on the HTTP server, with their path prefix. */
  readonly mounts: Mount[];
  /** Starts background work (connections, workers). Called after the HTTP server listens. Must not throw for an unreachable upstream. */
  start(signal: AbortSignal): Promise<void>;
  /** Drains in-flight work and releases connections. */
  stop(): Promise<void>;
}

/**
 * Builds the services configured in `runtime.config`. The appservice always runs (its tokens come from the
 * registration file; a missing file stops `start` with a message naming generate-registration). A remote
 * network's connector, when configured, is built here and handed to the appservice core.
 */
export async function composeServices(
  runtime: Runtime,
  opts: { connector?: NetworkConnector } = {},
): Promise<Service[]> {
  // [wazo] url set → the Wazo connector (unless a caller, e.g. a test, passes its own connector).
  const wazo = opts.connector ? undefined : wazoPart(runtime);
  const appservice = appserviceService(runtime, opts.connector ?? wazo?.connector);
  const report = reportService(runtime);
  return [appservice, ...(wazo ? [wazo.service] : []), ...(report ? [report] : [])];
}

/** Every config section: what `start` (and the demo) validate. */
export const ALL_SECTIONS: readonly SectionName[] = SECTION_NAMES;

/** The HTTP app of a running service: /health, /metrics and the services' sub-apps. */
export function serviceApp(rt: Runtime, services: readonly Service[]): Hono {
  const handle = rt.database();
  return createApp({
    version: VERSION,
    health: rt.health,
    metrics: rt.metrics,
    log: rt.log,
    maxBodyBytes: rt.config.http.max_body_bytes,
    databaseOk: () => handle.sqlite.prepare('select 1 as ok').get() !== undefined,
    mounts: services.flatMap((s) => s.mounts),
  });
}
