/** Builders shared by the export-stage tests: a stage context, fixture rows, and a fake Twenty. */
import { Writable } from 'node:stream';
import { configSchema } from '../../src/config/index.ts';
import { type DatabaseHandle, openDatabase, tables } from '../../src/db/index.ts';
import { HealthRegistry } from '../../src/health.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import type { StageContext } from '../../src/stage.ts';
import {
  createVirtualClock,
  FakeTwenty,
  type FakeTwentyOptions,
  type VirtualClock,
} from '../../src/testing/fake-twenty/index.ts';

export interface Harness {
  twenty: FakeTwenty;
  clock: VirtualClock;
  db: DatabaseHandle;
  logs: Record<string, unknown>[];
  ctx: (twenty?: Record<string, unknown>) => StageContext;
  close: () => Promise<void>;
}

export function captureLogger(): { log: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', format: 'json', destination: destination as never }), logs };
}

export async function harness(opts: FakeTwentyOptions & { dbUrl?: string } = {}): Promise<Harness> {
  const clock = createVirtualClock();
  const twenty = new FakeTwenty({ now: clock.now, ...opts });
  const url = await twenty.start();
  const db = openDatabase(opts.dbUrl ?? 'sqlite::memory:');
  const { log, logs } = captureLogger();
  return {
    twenty,
    clock,
    db,
    logs,
    ctx: (extra = {}) => ({
      config: {
        ...configSchema.parse({ database: { url: 'sqlite::memory:' }, twenty: { url, api_key: 'test-key', ...extra } }),
        source: { file: undefined },
      },
      db,
      log,
      metrics: createMetricsRegistry({ processMetrics: false }),
      health: new HealthRegistry(),
      signal: new AbortController().signal,
      now: clock.now,
      interactive: false,
    }),
    close: async () => {
      db.close();
      await twenty.stop();
    },
  };
}

let seq = 0;

export function addCustomer(
  db: DatabaseHandle,
  c: Partial<typeof tables.customers.$inferInsert> & { key: string },
): void {
  db.db
    .insert(tables.customers)
    .values({ channel: 'whatsapp', updatedAt: 0, ...c })
    .run();
}

export interface ConvFixture {
  id?: string;
  roomId?: string;
  customerKey: string | null;
  channel?: 'whatsapp' | 'wazo' | 'matrix';
  status?: 'OPEN' | 'WAITING_ON_CUSTOMER' | 'RESOLVED';
  startedAt?: number;
  lastMessageAt?: number;
  agents?: string[];
  sentiment?: 'positive' | 'neutral' | 'negative';
  score?: number;
  intent?: string;
  classified?: boolean;
  messages?: string[];
}

/** Inserts a conversation (and, unless `classified: false`, its classification). Returns its id. */
export function addConversation(db: DatabaseHandle, f: ConvFixture): string {
  seq++;
  const roomId = f.roomId ?? `!room${seq}:example.org`;
  const startedAt = f.startedAt ?? Date.UTC(2026, 10, 20, 9, 0, 0) + seq * 60_000;
  const id = f.id ?? `${roomId}#${startedAt}`;
  const lastMessageAt = f.lastMessageAt ?? startedAt + 10 * 60_000;
  db.db
    .insert(tables.conversations)
    .values({
      id,
      roomId,
      channel: f.channel ?? 'whatsapp',
      customerKey: f.customerKey,
      startedAt,
      lastMessageAt,
      messageCount: 4,
      customerMessageCount: 2,
      agentMessageCount: 2,
      firstResponseSeconds: 120,
      resolutionSeconds: null,
      status: f.status ?? 'WAITING_ON_CUSTOMER',
      agents: JSON.stringify(f.agents ?? ['@agent:example.org']),
      updatedAt: 0,
    })
    .onConflictDoUpdate({
      target: tables.conversations.id,
      set: { status: f.status ?? 'WAITING_ON_CUSTOMER', lastMessageAt, revision: 2 },
    })
    .run();
  (f.messages ?? ['Hello, I have a question']).forEach((body, i) => {
    db.db
      .insert(tables.historyEvents)
      .values({
        eventId: `$${id}-${i}`,
        roomId,
        sender: '@whatsapp_1:example.org',
        senderRole: 'customer',
        type: 'm.room.message',
        msgtype: 'm.text',
        body,
        ts: startedAt + i * 1000,
        conversationId: id,
      })
      .onConflictDoNothing()
      .run();
  });
  if (f.classified !== false) classify(db, id, f);
  return id;
}

export function classify(db: DatabaseHandle, id: string, f: Partial<ConvFixture>): void {
  const values = {
    conversationId: id,
    modelVersion: 'test-1',
    conversationRevision: 1,
    sentimentLabel: f.sentiment ?? 'neutral',
    sentimentScore: f.score ?? 0,
    intentLabel: f.intent ?? 'question',
    intentConfidence: 0.8,
    intents: JSON.stringify([f.intent ?? 'question']),
    keywords: JSON.stringify(['order']),
    language: 'en',
    classifiedAt: 0,
  } as const;
  db.db
    .insert(tables.conversationClassifications)
    .values(values)
    .onConflictDoUpdate({ target: tables.conversationClassifications.conversationId, set: values })
    .run();
}
