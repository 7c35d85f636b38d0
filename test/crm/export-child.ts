/**
 * Child process for the kill -9 test: runs one export against the fake Twenty at argv[3] with the
 * database at argv[2]. Not a test file itself (the parent spawns it).
 */
import { configSchema } from '../../src/config/index.ts';
import { runExport } from '../../src/crm/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';

const [dbUrl, url] = process.argv.slice(2);
const db = openDatabase(dbUrl);
const config = {
  ...configSchema.parse({
    database: { url: dbUrl },
    twenty: { url, api_key: 'test-key', batch_size: 10, ops_per_minute: 100_000 },
  }),
  source: { file: undefined },
};
await runExport(
  {
    config,
    db,
    log: silentLogger,
    metrics: createMetricsRegistry({ processMetrics: false }),
    health: new HealthRegistry(),
    signal: new AbortController().signal,
    now: Date.now,
    interactive: false,
  },
  { setup: false, dryRun: false },
);
db.close();
