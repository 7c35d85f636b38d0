/**
 * Stage 1 runner: lists the rooms of every configured account, describes the candidate rooms and follows
 * their upgrades (plan.ts), reads each selected room once (the first account that sees it), recomputes the
 * conversation segments of the rooms that changed (one timeline per upgrade chain), applies retention, and
 * returns its counters. A failing room is logged and recorded (`history_rooms.last_error`) and the others
 * go on; if any room failed the run ends with a {@link SyncIncompleteError} carrying the counters, so
 * `job_runs` keeps both the counts and the errors. Notices that do not fail the run (an upgraded room no
 * account is in, a gap that could not be filled) are counted, logged and passed to `onNotice`.
 */
import { AppError, describeError } from '../errors.ts';
import type { StageContext } from '../stage.ts';
import { resolveAccounts } from './accounts.ts';
import { loadBridgeFacts } from './bridge-facts.ts';
import { recomputeConversations, roomsWithStaleStatus } from './conversations.ts';
import { parseDuration } from '../config/index.ts';
import { type ProgressReporter, silentProgress } from './progress.ts';
import { MatrixReader } from './reader.ts';
import { applyRetention } from './retention.ts';
import { planRooms, selectRooms, type Work } from './plan.ts';
import { identifyRoom, type RoomSyncSettings, walkRoom } from './room-sync.ts';
import type { RoomInfo } from './room-info.ts';
import { buildRoleRules } from './roles.ts';
import { HistoryStore } from './store.ts';
import { stmt } from './statements.ts';
import { HistoryWriter } from './writer.ts';

export interface SyncOptions {
  /** Only these room ids (CLI `--room`), whatever `[sync] rooms` says. */
  rooms?: string[];
  /** Injected wait for 429/backoff (tests); default real timers. */
  sleep?: (ms: number) => Promise<void>;
  progress?: ProgressReporter;
  /** Where `access_token_env` variables are read; default process.env. */
  env?: Record<string, string | undefined>;
  /** Rooms read in parallel (default 4). */
  concurrency?: number;
  /** Events per write transaction (default 10,000; smaller = more, cheaper commits). */
  batchEvents?: number;
  /** Run-level notices that do not fail the run (upgraded room not joined, gap not filled). */
  onNotice?: (message: string) => void;
}

/** Some rooms failed; the others were synced. Carries the run's counters for `job_runs`. */
export class SyncIncompleteError extends AppError {
  readonly counts: Record<string, number>;
  constructor(message: string, counts: Record<string, number>) {
    super('SYNC_INCOMPLETE', message);
    this.counts = counts;
  }
}

/** Events written per transaction, across rooms (see writer.ts). */
const BATCH_EVENTS = 10_000;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runSync(ctx: StageContext, opts: SyncOptions = {}): Promise<Record<string, number>> {
  const { config, log } = ctx;
  const accounts = resolveAccounts(config, opts.env ?? process.env);
  const facts = loadBridgeFacts(ctx.db.sqlite);
  const rules = buildRoleRules(
    config,
    accounts.map((a) => a.userId),
    facts.linkedUsers,
  );
  const store = new HistoryStore(ctx.db.sqlite);
  const writer = new HistoryWriter(store, { batchEvents: opts.batchEvents ?? BATCH_EVENTS, now: ctx.now });
  const progress = opts.progress ?? silentProgress;
  const now = ctx.now();
  const day = 86_400_000;
  const gapMs = parseDuration(config.sync.conversation_gap)!;
  const settings: RoomSyncSettings = {
    channels: config.sync.rooms.channels,
    explicit: new Set([...(opts.rooms ?? []), ...config.sync.rooms.include]),
    pageSize: config.sync.page_size,
    backfillFrom: config.sync.backfill_days > 0 ? now - config.sync.backfill_days * day : null,
    maxEvents: config.sync.max_events_per_room,
    retentionCutoff: config.sync.retention_days > 0 ? now - config.sync.retention_days * day : null,
  };
  const counts: Record<string, number> = {
    accounts: accounts.length,
    accounts_failed: 0,
    invites_joined: 0,
    rooms: 0,
    rooms_synced: 0,
    rooms_skipped: 0,
    rooms_failed: 0,
    events_stored: 0,
    messages: 0,
    edits: 0,
    redactions: 0,
    reactions: 0,
    memberships: 0,
    encrypted: 0,
    duplicates: 0,
    rooms_finished: 0,
    upgrades_joined: 0,
    upgrades_not_joined: 0,
    gaps_detected: 0,
    gaps_filled: 0,
    gaps_unfilled: 0,
    conversations_created: 0,
    conversations_updated: 0,
    conversations_deleted: 0,
    retention_cleared: 0,
  };
  const errors: string[] = [];

  // Rooms seen by several accounts are read once, by the first account listing them.
  const work = new Map<string, Work>();
  const readers: MatrixReader[] = [];
  for (const account of accounts) {
    const reader = new MatrixReader({
      baseUrl: config.homeserver.url,
      userId: account.userId,
      accessToken: account.accessToken,
      appservice: account.appservice,
      sleep: opts.sleep ?? realSleep,
    });
    readers.push(reader);
    try {
      const anchor = await reader.anchor();
      let nextBatch = anchor.nextBatch;
      const invites = anchor.invites;
      if (config.sync.auto_join && invites.length > 0) {
        for (const roomId of invites) {
          try {
            await reader.join(roomId);
            counts.invites_joined!++;
          } catch (err) {
            // One refused invite must not stop the others; it is retried on the next run.
            log.warn(
              { room_id: roomId, account: account.userId, err: describeError(err) },
              'could not join invited room',
            );
          }
        }
        // Joining adds events: take a fresh anchor so the walks of the new rooms start after the joins.
        nextBatch = (await reader.anchor()).nextBatch;
      }
      for (const roomId of await reader.joinedRooms())
        if (!work.has(roomId)) work.set(roomId, { reader, anchor: nextBatch });
    } catch (err) {
      counts.accounts_failed!++;
      errors.push(`account ${account.userId}: ${describeError(err)}`);
      log.error({ account: account.userId, err: describeError(err) }, 'cannot list the rooms of a sync account');
    }
  }

  for (const missing of (opts.rooms ?? []).filter((r) => !work.has(r))) {
    counts.rooms_failed!++;
    errors.push(`${missing}: not joined by any sync account`);
  }
  const changed = new Set<string>();
  const read: { roomId: string; info: RoomInfo; reader: MatrixReader; predecessor: string | null }[] = [];
  const fail = (roomId: string, err: unknown) => {
    counts.rooms_failed!++;
    errors.push(`${roomId}: ${describeError(err)}`);
    log.error({ room_id: roomId, err: describeError(err) }, 'room sync failed; continuing with the other rooms');
    // The room's row may still be queued: write it first so the error lands on it.
    writer.flush();
    stmt(ctx.db.sqlite, 'update history_rooms set last_error = ? where room_id = ?').run(
      describeError(err).slice(0, 2000),
      roomId,
    );
  };
  const notice = (message: string) => opts.onNotice?.(message);
  const plan = await planRooms({
    sqlite: ctx.db.sqlite,
    store,
    rules,
    facts,
    log,
    now: ctx.now,
    signal: ctx.signal,
    work,
    readers,
    cli: opts.rooms ?? [],
    include: config.sync.rooms.include,
    exclude: config.sync.rooms.exclude,
    channels: config.sync.rooms.channels,
    autoJoin: config.sync.auto_join,
    concurrency: Math.max(1, opts.concurrency ?? 4),
    fail,
    notice,
  });
  const wanted = plan.toRead;
  counts.rooms = wanted.length + plan.finished.length;
  counts.rooms_skipped = plan.skipped;
  counts.rooms_finished = plan.finished.length;
  counts.upgrades_joined = plan.upgradesJoined;
  counts.upgrades_not_joined = plan.upgradesNotJoined;
  let next = 0;
  const worker = async () => {
    while (next < wanted.length && !ctx.signal.aborted) {
      const room = wanted[next++]!;
      const { roomId, reader, anchor } = room;
      progress.start(roomId, roomId);
      try {
        const out = await walkRoom(
          {
            reader,
            store,
            writer,
            sqlite: ctx.db.sqlite,
            rules,
            facts,
            settings,
            anchor,
            now: ctx.now,
            signal: ctx.signal,
            log: log.child({ room_id: roomId }),
            onPage: (n) => progress.update(roomId, n),
          },
          room,
        );
        counts.gaps_detected! += out.gapsDetected;
        for (const g of out.gaps) {
          if (g.result === 'filled') {
            counts.gaps_filled!++;
            continue;
          }
          counts.gaps_unfilled!++;
          const since = g.oldestTs === null ? '' : ` (the fill reached ${new Date(g.oldestTs).toISOString()})`;
          notice(`gap not filled in ${roomId}: ${g.result.replaceAll('_', ' ')}${since}; earlier events are missing`);
        }
        read.push({ roomId, info: out.info, reader, predecessor: room.predecessor });
        progress.finish(roomId, 'synced');
      } catch (err) {
        fail(roomId, err);
        progress.finish(roomId, 'failed');
      }
    }
  };
  // A first sync writes a lot: let the WAL grow to ~80 MB between checkpoints (instead of 4 MB) while it
  // runs, then checkpoint once and restore the connection's setting.
  const autocheckpoint = ctx.db.sqlite.pragma('wal_autocheckpoint', { simple: true }) as number;
  ctx.db.sqlite.pragma('wal_autocheckpoint = 20000');
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
    writer.flush();
  } finally {
    progress.stop();
    ctx.db.sqlite.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
    ctx.db.sqlite.pragma('wal_checkpoint(PASSIVE)');
  }

  // Identity needs the stored membership history, so it comes once everything is written.
  const order = new Map(wanted.map((w, i) => [w.roomId, i]));
  // Oldest room of each upgrade chain first (plan order): a successor may inherit its predecessor's identity.
  for (const { roomId, info, reader, predecessor } of read.sort(
    (a, b) => order.get(a.roomId)! - order.get(b.roomId)!,
  )) {
    try {
      await identifyRoom({ reader, sqlite: ctx.db.sqlite, rules, facts, now: ctx.now }, roomId, info, predecessor);
      counts.rooms_synced!++;
      // Identity may change roles or customer keys even without new events: recompute every synced room.
      changed.add(roomId);
    } catch (err) {
      fail(roomId, err);
    }
  }
  for (const c of writer.written.values()) {
    counts.events_stored! += c.stored;
    counts.messages! += c.messages;
    counts.edits! += c.edits;
    counts.redactions! += c.redactions;
    counts.reactions! += c.reactions;
    counts.memberships! += c.memberships;
    counts.encrypted! += c.encrypted;
    counts.duplicates! += c.duplicates;
  }

  for (const r of roomsWithStaleStatus(ctx.db.sqlite, { gapMs, now: ctx.now() })) changed.add(r);
  // An upgrade chain is one timeline: its rooms are segmented together, once.
  const chains = new Map<string, string[]>();
  for (const r of changed) {
    const chain = plan.links.chain(r);
    chains.set(chain[0]!, chain);
  }
  // Many small rooms: one transaction per 200 rooms rather than one each (each room's own is nested).
  const groups = [...chains.values()];
  for (let i = 0; i < groups.length; i += 200) {
    ctx.db.sqlite.transaction(() => {
      for (const chain of groups.slice(i, i + 200)) {
        const c = recomputeConversations(ctx.db.sqlite, chain, { gapMs, now: ctx.now() });
        counts.conversations_created! += c.created;
        counts.conversations_updated! += c.updated;
        counts.conversations_deleted! += c.deleted;
      }
    })();
  }
  if (settings.retentionCutoff !== null)
    counts.retention_cleared = applyRetention(ctx.db.sqlite, settings.retentionCutoff);

  log.info({ ...counts }, 'sync finished');
  if (errors.length > 0) {
    const shown = errors.slice(0, 5).join('; ');
    throw new SyncIncompleteError(`${errors.length} sync error(s): ${shown}${errors.length > 5 ? '; …' : ''}`, counts);
  }
  return counts;
}

export { selectRooms };
