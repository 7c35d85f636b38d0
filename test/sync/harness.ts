/** Shared set-up of the sync tests: a fake homeserver, an in-memory database and a stage context. */
import { type Config, configSchema } from '../../src/config/index.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/index.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import type { StageContext } from '../../src/stage.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';

export const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export type RawConfig = Record<string, Record<string, unknown>>;

export function makeConfig(raw: RawConfig = {}): Config {
  const parsed = configSchema.parse(raw);
  return Object.freeze({ ...parsed, source: { file: undefined } }) as unknown as Config;
}

export interface Harness {
  hs: FakeHomeserver;
  db: DatabaseHandle;
  agent: { userId: string; token: string };
  clock: { now: number };
  config(raw?: RawConfig): Config;
  ctx(config: Config, signal?: AbortSignal): StageContext;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function harness(dbUrl = 'sqlite::memory:'): Promise<Harness> {
  const clock = { now: T0 + 30 * DAY };
  const hs = await new FakeHomeserver({ serverName: 'example.org', clock: () => clock.now }).start();
  const agent = hs.model.addUser('agent', { displayname: 'Alice Agent' });
  const db = openDatabase(dbUrl);
  const env = { AGENT_TOKEN: agent.token };
  return {
    hs,
    db,
    agent,
    clock,
    env,
    config(raw: RawConfig = {}) {
      return makeConfig({
        ...raw,
        homeserver: { url: hs.url, domain: 'example.org', ...(raw.homeserver ?? {}) },
        sync: {
          accounts: [{ user_id: agent.userId, access_token_env: 'AGENT_TOKEN' }],
          backfill_days: 0,
          page_size: 50,
          ...(raw.sync ?? {}),
        },
      });
    },
    ctx(config, signal = new AbortController().signal) {
      return {
        config,
        db,
        log: silentLogger,
        metrics: createMetricsRegistry(),
        health: new HealthRegistry(),
        signal,
        now: () => clock.now,
        interactive: false,
      };
    },
    async close() {
      db.close();
      await hs.stop();
    },
  };
}

export const noSleep = async (_ms: number) => {};
