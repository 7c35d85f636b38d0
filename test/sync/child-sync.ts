/**
 * Child process of the kill -9 test: runs one sync against the fake homeserver into a database file.
 * argv: <homeserver url> <db path> <user id>; the token comes from AGENT_TOKEN.
 */
import { openDatabase } from '../../src/db/index.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { runSync } from '../../src/sync/index.ts';
import { makeConfig } from './harness.ts';

const [url, dbPath, userId] = process.argv.slice(2);
const db = openDatabase(`sqlite:${dbPath}`);
const config = makeConfig({
  homeserver: { url: url!, domain: 'example.org' },
  database: { url: `sqlite:${dbPath}` },
  sync: { accounts: [{ user_id: userId!, access_token_env: 'AGENT_TOKEN' }], backfill_days: 0, page_size: 50 },
});
await runSync(
  {
    config,
    db,
    log: silentLogger,
    metrics: createMetricsRegistry(),
    health: new HealthRegistry(),
    signal: new AbortController().signal,
    now: Date.now,
    interactive: false,
  },
  { env: process.env, sleep: async () => {}, batchEvents: 300 },
);
db.close();
