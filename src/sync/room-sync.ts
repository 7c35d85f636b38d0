/**
 * Reads one room: its state (channel, names, bridge info), then new events forward from the stored token,
 * then any detected gap, then the first-run backward walk (bounded by `[sync] backfill_days` and
 * `max_events_per_room`). Pages go to the shared {@link HistoryWriter} with the cursor they lead to (same
 * transaction), so an interruption at any point resumes without gap or duplicate. Once the run's writes are
 * flushed, {@link identifyRoom} resolves the customer identity from the stored membership history.
 */
import type Database from 'better-sqlite3';
import { stmt } from './statements.ts';
import type { Channel, SenderRole } from '../db/schema/history.ts';
import { RemoteApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BridgeFacts } from './bridge-facts.ts';
import { type RoomIdentity, resolveIdentity } from './identity.ts';
import type { MatrixReader } from './reader.ts';
import { type ClientEvent, describeRoom, type RoomInfo } from './room-info.ts';
import { type RoleRules, roleOf } from './roles.ts';
import type { CursorState, HistoryStore } from './store.ts';
import type { HistoryWriter } from './writer.ts';

export interface RoomSyncSettings {
  channels: readonly Channel[];
  /** Room ids asked for explicitly: synced whatever their channel. */
  explicit: ReadonlySet<string>;
  pageSize: number;
  /** Oldest timestamp the first (backward) run reads; null = everything. */
  backfillFrom: number | null;
  /** Max events stored by the backward walk; 0 = no limit. */
  maxEvents: number;
  /** Message text older than this is not stored; null = keep. */
  retentionCutoff: number | null;
}

export interface RoomSyncDeps {
  reader: MatrixReader;
  store: HistoryStore;
  writer: HistoryWriter;
  sqlite: Database.Database;
  rules: RoleRules;
  /** What our bridge's tables say (portals, linked users, ghost profiles). */
  facts: BridgeFacts;
  settings: RoomSyncSettings;
  /** `/sync` `next_batch` taken at the start of the run: where a new room's walks start. */
  anchor: string;
  now: () => number;
  signal: AbortSignal;
  log: Logger;
  /** Called after each stored page with the number of events read so far in this room. */
  onPage?: (read: number) => void;
}

export type RoomOutcome =
  { status: 'skipped'; channel: Channel } | { status: 'read'; channel: Channel; info: RoomInfo };

/** Reads the room's new events into the writer's queue (written in batches; call `writer.flush()` after). */
export async function walkRoom(d: RoomSyncDeps, roomId: string): Promise<RoomOutcome> {
  const account = d.reader.userId;
  const info = describeRoom(await d.reader.roomState(roomId), d.rules, d.facts.portalRooms.has(roomId));
  if (!d.settings.channels.includes(info.channel) && !d.settings.explicit.has(roomId))
    return { status: 'skipped', channel: info.channel };
  const roles = new Map<string, SenderRole>();
  const role = (u: string) => {
    let r = roles.get(u);
    if (r === undefined) {
      r = roleOf(d.rules, u, info.waReceiver);
      roles.set(u, r);
    }
    return r;
  };
  let read = 0;
  const pending = d.store.loadPending(roomId);
  const cursor: CursorState = d.store.cursor(roomId, account) ?? {
    backwardToken: d.anchor,
    backfillDone: false,
    forwardToken: d.anchor,
    backfillCount: 0,
    gapToken: null,
  };
  const entry = { roomId, account, role, pending, cutoff: d.settings.retentionCutoff };
  // The room row goes first, in the same transaction as the room's first events.
  d.writer.add({ ...entry, events: [], cursor, room: (db) => upsertRoom(db, roomId, info, account) });
  const store = (events: readonly ClientEvent[]) => {
    d.writer.add({ ...entry, events, cursor });
    read += events.length;
    d.onPage?.(read);
  };
  try {
    await walk();
  } finally {
    // Pages fetched before a failure are complete and valid: they are written with their cursor.
    d.writer.add({ ...entry, events: [], cursor });
  }
  return { status: 'read', channel: info.channel, info };

  async function walk() {
    // 1. Forward from the stored token: only what is new since the last run.
    for (;;) {
      d.signal.throwIfAborted();
      let page: Awaited<ReturnType<MatrixReader['messages']>>;
      try {
        page = await d.reader.messages(roomId, cursor.forwardToken ?? d.anchor, 'f', d.settings.pageSize);
      } catch (err) {
        if (err instanceof RemoteApiError && err.remoteStatus === 400 && err.remoteCode === 'M_INVALID_PARAM') {
          // The stored token is no longer accepted (expired or server reset): a gap between it and now.
          d.log.warn({ room_id: roomId }, 'stored pagination token refused; filling the gap backwards from now');
          cursor.forwardToken = d.anchor;
          cursor.gapToken = d.anchor;
          store([]);
          break;
        }
        throw err;
      }
      if (page.chunk.length === 0) break;
      cursor.forwardToken = page.end ?? cursor.forwardToken;
      store(page.chunk);
      if (!page.end) break;
    }

    // 2. Gap: walk back from the new anchor until an event we already have.
    while (cursor.gapToken !== null) {
      d.signal.throwIfAborted();
      const page = await d.reader.messages(roomId, cursor.gapToken, 'b', d.settings.pageSize);
      // Stored, or queued by this walk and not written yet: either way the gap is closed there.
      d.writer.flush();
      const knownAt = page.chunk.findIndex((e) => d.store.known(e.event_id));
      const fresh = knownAt < 0 ? page.chunk : page.chunk.slice(0, knownAt);
      cursor.gapToken = knownAt >= 0 || !page.end ? null : page.end;
      store(fresh);
    }

    // 3. First run: backward from the anchor, bounded by age and count.
    while (!cursor.backfillDone) {
      d.signal.throwIfAborted();
      const page = await d.reader.messages(roomId, cursor.backwardToken ?? d.anchor, 'b', d.settings.pageSize);
      const from = d.settings.backfillFrom;
      // Bridged backfill is out of order: stop on a page that is entirely older than the bound, keep members.
      let events =
        from === null ? page.chunk : page.chunk.filter((e) => e.origin_server_ts >= from || e.type === 'm.room.member');
      let done = !page.end || (from !== null && page.chunk.every((e) => e.origin_server_ts < from));
      const max = d.settings.maxEvents;
      if (max > 0 && cursor.backfillCount + events.length >= max) {
        events = events.slice(0, max - cursor.backfillCount);
        done = true;
      }
      cursor.backfillCount += events.length;
      cursor.backfillDone = done;
      cursor.backwardToken = done ? null : (page.end ?? null);
      store(events);
    }
  }
}

/** Resolves and stores the room's customer identity and participants (after the writer was flushed). */
export async function identifyRoom(
  d: Pick<RoomSyncDeps, 'reader' | 'sqlite' | 'rules' | 'now' | 'facts'>,
  roomId: string,
  info: RoomInfo,
): Promise<RoomIdentity> {
  const history = stmt(
    d.sqlite,
    'select user_id as userId, membership, display_name as displayName from history_memberships where room_id = ? order by ts',
  ).all(roomId) as { userId: string; membership: string; displayName: string | null }[];
  const identity = await resolveIdentity(info, d.rules, history, (u) => d.reader.profile(u), d.facts.ghostProfiles);
  writeIdentity(d.sqlite, roomId, identity, d.now());
  return identity;
}

function upsertRoom(db: Database.Database, roomId: string, info: RoomInfo, account: string) {
  stmt(
    db,
    `insert into history_rooms (room_id, channel, name, is_direct, encrypted, remote_channel_id, wa_receiver, account)
      values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (room_id) do update set channel = excluded.channel, name = excluded.name,
      is_direct = excluded.is_direct, encrypted = max(history_rooms.encrypted, excluded.encrypted),
      remote_channel_id = excluded.remote_channel_id, wa_receiver = excluded.wa_receiver, account = excluded.account`,
  ).run(
    roomId,
    info.channel,
    info.name,
    info.isDirect ? 1 : 0,
    info.encrypted ? 1 : 0,
    info.remoteChannelId,
    info.waReceiver,
    account,
  );
}

function writeIdentity(db: Database.Database, roomId: string, id: RoomIdentity, now: number) {
  db.transaction(() => {
    const upsert = stmt(
      db,
      `insert into customers (key, channel, phone, mxid, name, email, wazo_user_uuid, wa_lid, updated_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (key) do update set phone = coalesce(excluded.phone, customers.phone),
      email = coalesce(excluded.email, customers.email),
      mxid = coalesce(excluded.mxid, customers.mxid), name = coalesce(excluded.name, customers.name),
      wazo_user_uuid = coalesce(excluded.wazo_user_uuid, customers.wazo_user_uuid), wa_lid = coalesce(excluded.wa_lid, customers.wa_lid),
      updated_at = excluded.updated_at`,
    );
    for (const c of id.customers)
      upsert.run(c.key, c.channel, c.phone, c.mxid, c.name, c.email ?? null, c.wazoUserUuid, c.waLid, now);
    stmt(db, 'delete from history_participants where room_id = ?').run(roomId);
    const part = stmt(
      db,
      'insert into history_participants (room_id, user_id, role, customer_key, display_name) values (?, ?, ?, ?, ?)',
    );
    for (const p of id.participants) part.run(roomId, p.userId, p.role, p.customerKey, p.displayName);
    stmt(
      db,
      'update history_rooms set customer_key = ?, no_phone_number = ?, last_synced_at = ?, last_error = null where room_id = ?',
    ).run(id.customerKey, id.noPhoneNumber ? 1 : 0, now, roomId);
  })();
}
