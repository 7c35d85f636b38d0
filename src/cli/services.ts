/**
 * Composition of the long-running parts that `start` (and the demo) run next to the HTTP server:
 * each part contributes hono sub-apps and a start/stop pair. The parts are wired here, in the
 * composition root, so that they never import one another.
 */
import type { Hono } from 'hono';
import type { Runtime } from './runtime.ts';

export interface Service {
  readonly name: string;
  /** Sub-apps to mount on the HTTP server, with their path prefix. */
  readonly mounts: { path: string; app: Hono }[];
  /** Starts background work (connections, workers). Called after the HTTP server listens. Must not throw for an unreachable upstream. */
  start(signal: AbortSignal): Promise<void>;
  /** Drains in-flight work and releases connections. */
  stop(): Promise<void>;
}

/** Builds the services configured in `runtime.config`. */
export async function composeServices(_runtime: Runtime): Promise<Service[]> {
  return [];
}
