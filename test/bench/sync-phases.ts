/** The two measured phases of the sync benchmark (each run in its own process by sync.bench.ts). */
import { configSchema } from '../../src/config/index.ts';
import type { Config } from '../../src/config/index.ts';
import Database from 'better-sqlite3';
import type { DatabaseHandle } from '../../src/db/index.ts';
import { tuneConnection } from '../../src/db/pragmas.ts';
import { HealthRegistry } from '../../src/health.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { runSync } from '../../src/sync/index.ts';
import { MatrixReader } from '../../src/sync/reader.ts';

export interface PhaseResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssMb: number;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

export async function measure(
  mode: 'optimized' | 'naive',
  o: { url: string; token: string; userId: string; dbPath: string },
): Promise<PhaseResult> {
  // The database was created and migrated by the parent. The sync stage only uses the raw connection, so the
  // measured process opens it directly (same settings as openDatabase) and does not load drizzle-orm, whose
  // import alone holds ~230 MB of RSS (measured separately, see docs/benchmarks.md).
  const sqlite = new Database(o.dbPath);
  tuneConnection(sqlite, o.dbPath);
  const db: DatabaseHandle = {
    db: undefined as unknown as DatabaseHandle['db'],
    sqlite,
    path: o.dbPath,
    close: () => sqlite.close(),
  };
  const maxMem: Record<string, number> = {};
  const sampler = setInterval(() => {
    for (const [k, v] of Object.entries(process.memoryUsage()))
      maxMem[k] = Math.max(maxMem[k] ?? 0, Math.round(v / 1048576));
    if (process.env.BENCH_GC) (globalThis as { gc?: () => void }).gc?.();
    if (process.env.BENCH_TRACE) {
      const m = process.memoryUsage();
      process.stderr.write(
        `${Math.round(performance.now())} rss ${Math.round(m.rss / 1048576)} heap ${Math.round(m.heapUsed / 1048576)}/${Math.round(m.heapTotal / 1048576)} ab ${Math.round(m.arrayBuffers / 1048576)}\n`,
      );
    }
  }, 200);
  const start = performance.now();
  let events = 0;
  if (mode === 'optimized') {
    const config = Object.freeze({
      ...configSchema.parse({
        homeserver: { url: o.url, domain: 'bench.example' },
        sync: {
          accounts: [{ user_id: o.userId, access_token_env: 'BENCH_TOKEN' }],
          backfill_days: 0,
          page_size: Number(process.env.BENCH_PAGE ?? 1000),
        },
      }),
      source: { file: undefined },
    }) as unknown as Config;
    const counts = await runSync(
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
      { env: { BENCH_TOKEN: o.token }, sleep: async () => {}, concurrency: Number(process.env.BENCH_CONC ?? 4) },
    );
    events = counts.events_stored!;
  } else {
    const reader = new MatrixReader({ baseUrl: o.url, userId: o.userId, accessToken: o.token, sleep: async () => {} });
    const { nextBatch } = await reader.anchor();
    for (const roomId of await reader.joinedRooms()) {
      let from: string | undefined = nextBatch;
      for (;;) {
        const page = await reader.messages(roomId, from, 'b', 1000);
        for (const e of page.chunk) {
          if (e.type !== 'm.room.message' && e.type !== 'm.room.member') continue;
          // One statement per row, autocommit, prepared every time: the baseline being measured.
          db.sqlite
            .prepare(
              `insert or ignore into history_events (event_id, room_id, sender, sender_role, type, msgtype, body, ts)
              values (?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              e.event_id,
              roomId,
              e.sender,
              'customer',
              e.type,
              (e.content.msgtype as string) ?? null,
              (e.content.body as string) ?? null,
              e.origin_server_ts,
            );
          events++;
        }
        if (!page.end) break;
        from = page.end;
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  if (process.env.BENCH_MEM) process.stderr.write(`${mode} memory peaks (MB): ${JSON.stringify(maxMem)}\n`);
  db.close();
  return { events, seconds, eventsPerSecond: events / seconds, peakRssMb: peakRssMb() };
}
