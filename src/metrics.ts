/**
 * The Prometheus registry (prom-client). Leaf module: parts register their counters and histograms
 * on the registry they are given; `/metrics` renders it.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** A fresh registry with process metrics. One per running service (tests make their own). */
export function createMetricsRegistry(opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mcb_' });
  return registry;
}

/** Returns the metric already registered under `name`, or registers the one `make` builds. */
export function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
