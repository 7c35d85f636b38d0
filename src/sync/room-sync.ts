/**
 * Reads one room whose state the run already described (channel, bridge, upgrade links: see plan.ts): new
 * events forward from the stored token, then any detected gap, then the first-run backward walk (bounded by
 * `[sync] backfill_days` and `max_events_per_room`). Pages go to the shared {@link HistoryWriter} with the
 * cursor they lead to (same transaction), so an interruption at any point resumes without gap or duplicate.
 * Once the run's writes are flushed, {@link identifyRoom} resolves the customer identity from the stored
 * membership history. The gap rules are in docs/sync.md ("Gaps").
 */
import type Database from 'better-sqlite3';
import { stmt } from './statements.ts';
import type { Channel, SenderRole } from '../db/schema/history.ts';
import { RemoteApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BridgeFacts } from './bridge-facts.ts';
import { inheritIdentity, type RoomIdentity, resolveIdentity } from './identity.ts';
import type { MatrixReader, MessagesPage } from './reader.ts';
import type { ClientEvent, RoomInfo } from './room-info.ts';
import { type RoleRules, roleOf } from './roles.ts';
import type { CursorState, HistoryStore } from './store.ts';
import type { HistoryWriter } from './writer.ts';

export interface RoomSyncSettings {
  channels: readonly Channel[];
  /** Room ids asked for explicitly: synced whatever their channel. */
  explicit: ReadonlySet<string>;
  pageSize: number;
  /** Oldest timestamp the first (backward) run and a gap fill read; null = everything. */
  backfillFrom: number | null;
  /** Max events stored by the backward walk, and by one gap fill; 0 = no limit. */
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

/** What the run knows of a room before reading it (plan.ts). */
export interface RoomToRead {
  roomId: string;
  /** Its description, with what it inherits from the room it replaced. */
  info: RoomInfo;
  /** The room has an `m.room.tombstone`: once read forward to the present, it is finished. */
  replaced: boolean;
}

/** How a gap detected in this walk ended. */
export interface GapOutcome {
  /** `filled`: the fill reached an event read before; otherwise why it stopped short (history is missing). */
  result: 'filled' | 'start_of_history' | 'backfill_days' | 'max_events_per_room' | 'token_refused';
  /** Events the fill stored. */
  events: number;
  /** Oldest timestamp the fill reached (null when it read nothing). */
  oldestTs: number | null;
}

export interface RoomOutcome {
  info: RoomInfo;
  /** Gaps detected in this walk (refused forward tokens, refused backward tokens). */
  gapsDetected: number;
  /** Gap fills that ended in this walk. */
  gaps: GapOutcome[];
  /** The room was replaced and is now read to its end: no later run reads it forward. */
  finished: boolean;
}

/** Empty pages with an `end` read in a row before a walk stops for this run (its cursor is kept). */
const MAX_EMPTY_PAGES = 100;

/**
 * A homeserver that no longer accepts a pagination token we stored: Synapse answers 400 `M_UNKNOWN`
 * ("Invalid stream token"), others 400 `M_INVALID_PARAM`. Any other error is a real failure.
 */
export function isRefusedToken(err: unknown): boolean {
  return (
    err instanceof RemoteApiError &&
    err.remoteStatus === 400 &&
    (err.remoteCode === 'M_INVALID_PARAM' || err.remoteCode === 'M_UNKNOWN')
  );
}

/** Reads the room's new events into the writer's queue (written in batches; call `writer.flush()` after). */
export async function walkRoom(d: RoomSyncDeps, plan: RoomToRead): Promise<RoomOutcome> {
  const { roomId, info } = plan;
  const account = d.reader.userId;
  const roles = new Map<string, SenderRole>();
  const role = (u: string) => {
    let r = roles.get(u);
    if (r === undefined) {
      r = roleOf(d.rules, u, info.waReceiver, info.waOwnLid);
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
    lastEventId: null,
    gapStopEventId: null,
    gapCount: 0,
    forwardDone: false,
  };
  const outcome: RoomOutcome = { info, gapsDetected: 0, gaps: [], finished: false };
  /** Oldest timestamp the current gap fill reached in this walk. */
  let gapOldest: number | null = null;
  const entry = { roomId, account, role, pending, cutoff: d.settings.retentionCutoff };
  // The room row goes first, in the same transaction as the room's first events.
  d.writer.add({ ...entry, events: [], cursor, room: (db) => upsertRoom(db, roomId, info, account, d.rules) });
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
  return outcome;

  async function walk() {
    // 1. Forward from the stored token: only what is new since the last run.
    let restarted = false;
    let emptyPages = 0;
    while (!cursor.forwardDone) {
      d.signal.throwIfAborted();
      let page: MessagesPage;
      const from = cursor.forwardToken ?? d.anchor;
      try {
        page = await d.reader.messages(roomId, from, 'f', d.settings.pageSize);
      } catch (err) {
        // The stored token is no longer accepted (expired, server reset): a gap between it and now. The
        // run's anchor is fresh: refused too means something else is wrong.
        if (!isRefusedToken(err) || restarted) throw err;
        restarted = true;
        d.log.warn({ room_id: roomId }, 'stored pagination token refused; filling the gap backwards from now');
        outcome.gapsDetected++;
        openGap();
        continue;
      }
      // Spec (C-S "GET /rooms/{roomId}/messages"): `end` absent = no more events; an empty `chunk` WITH `end`
      // (Synapse: every event of the page hidden from this user by history visibility) is not the end.
      const more = page.end !== undefined && !(page.chunk.length === 0 && page.end === from);
      if (page.chunk.length > 0) {
        cursor.lastEventId = page.chunk.at(-1)!.event_id;
        cursor.forwardToken = page.end ?? cursor.forwardToken;
        store(page.chunk);
        emptyPages = 0;
      } else if (more) {
        // Step over the hidden stretch; the cursor moves with it so the next run does not read it again.
        cursor.forwardToken = page.end!;
        store([]);
        // A server that keeps answering empty pages with new tokens: stop here, the next run goes on.
        if (++emptyPages >= MAX_EMPTY_PAGES) break;
      }
      if (!more) {
        // At the present. A replaced room's tombstone is behind us now: it will not be read forward again.
        if (plan.replaced) {
          cursor.forwardDone = true;
          cursor.forwardToken = null;
          outcome.finished = true;
          store([]);
        }
        break;
      }
    }

    // 2. Gap: walk back from where the forward walk restarted, until the event read last before the gap.
    while (cursor.gapToken !== null) {
      d.signal.throwIfAborted();
      let page: MessagesPage;
      const gapFrom = cursor.gapToken;
      try {
        page = await d.reader.messages(roomId, gapFrom, 'b', d.settings.pageSize);
      } catch (err) {
        if (!isRefusedToken(err)) throw err;
        // The fill's own token expired (an interrupted fill resumed much later): what it did not reach is lost.
        closeGap('token_refused');
        break;
      }
      // Stored, or queued by this walk and not written yet: either way the gap is closed there.
      d.writer.flush();
      cursor.lastEventId ??= page.chunk[0]?.event_id ?? null;
      const stop = cursor.gapStopEventId;
      const knownAt = page.chunk.findIndex((e) => e.event_id === stop || d.store.known(e.event_id));
      const from = d.settings.backfillFrom;
      let fresh = knownAt < 0 ? page.chunk : page.chunk.slice(0, knownAt);
      // Same age bound as the first walk (members are kept: identity needs them).
      if (from !== null) fresh = fresh.filter((e) => e.origin_server_ts >= from || e.type === 'm.room.member');
      const max = d.settings.maxEvents;
      let result: GapOutcome['result'] | null = null;
      if (knownAt >= 0) result = 'filled';
      else if (from !== null && page.chunk.length > 0 && page.chunk.every((e) => e.origin_server_ts < from))
        result = 'backfill_days';
      else if (!page.end || (page.chunk.length === 0 && page.end === gapFrom))
        result = stop === null ? 'filled' : 'start_of_history';
      if (max > 0 && cursor.gapCount + fresh.length >= max && result !== 'filled') {
        fresh = fresh.slice(0, max - cursor.gapCount);
        result ??= 'max_events_per_room';
      }
      cursor.gapCount += fresh.length;
      cursor.gapToken = result === null ? (page.end ?? null) : null;
      for (const e of fresh) if (gapOldest === null || e.origin_server_ts < gapOldest) gapOldest = e.origin_server_ts;
      if (result !== null) closeGap(result);
      store(fresh);
    }

    // 3. First run: backward from the anchor, bounded by age and count.
    let backRestarted = false;
    let backEmptyPages = 0;
    while (!cursor.backfillDone) {
      d.signal.throwIfAborted();
      let page: MessagesPage;
      const pageFrom = cursor.backwardToken ?? d.anchor;
      try {
        page = await d.reader.messages(roomId, pageFrom, 'b', d.settings.pageSize);
      } catch (err) {
        // An interrupted first walk resumed after its token expired: walk again from now; what is stored
        // already is skipped by event ID. The run's anchor refused too is a real failure.
        if (!isRefusedToken(err) || backRestarted || cursor.backwardToken === d.anchor) throw err;
        backRestarted = true;
        d.log.warn({ room_id: roomId }, 'backward pagination token refused; reading the history again from now');
        outcome.gapsDetected++;
        cursor.backwardToken = d.anchor;
        cursor.backfillCount = 0;
        continue;
      }
      cursor.lastEventId ??= page.chunk[0]?.event_id ?? null;
      const from = d.settings.backfillFrom;
      // Bridged backfill is out of order: stop on a page that is entirely older than the bound, keep members.
      let events =
        from === null ? page.chunk : page.chunk.filter((e) => e.origin_server_ts >= from || e.type === 'm.room.member');
      // Only an absent `end` is the start of the room: an empty chunk with `end` is a hidden stretch, not the
      // start, and not "entirely older than the bound" either.
      let done =
        !page.end ||
        (page.chunk.length === 0 && page.end === pageFrom) ||
        (from !== null && page.chunk.length > 0 && page.chunk.every((e) => e.origin_server_ts < from));
      backEmptyPages = page.chunk.length === 0 ? backEmptyPages + 1 : 0;
      const max = d.settings.maxEvents;
      if (max > 0 && cursor.backfillCount + events.length >= max) {
        events = events.slice(0, max - cursor.backfillCount);
        done = true;
      }
      cursor.backfillCount += events.length;
      cursor.backfillDone = done;
      cursor.backwardToken = done ? null : (page.end ?? null);
      store(events);
      // Many empty pages in a row: stop this run where it is (the cursor is kept), the next run goes on.
      if (!done && backEmptyPages >= MAX_EMPTY_PAGES) break;
    }
    if (backRestarted) outcome.gaps.push({ result: 'filled', events: cursor.backfillCount, oldestTs: null });
  }

  function openGap() {
    cursor.forwardToken = d.anchor;
    cursor.gapToken = d.anchor;
    cursor.gapStopEventId = cursor.lastEventId;
    cursor.lastEventId = null;
    cursor.gapCount = 0;
    gapOldest = null;
    store([]);
  }

  function closeGap(result: GapOutcome['result']) {
    const g: GapOutcome = { result, events: cursor.gapCount, oldestTs: gapOldest };
    outcome.gaps.push(g);
    if (result === 'filled') d.log.info({ room_id: roomId, events: g.events }, 'gap filled');
    else
      d.log.warn(
        {
          room_id: roomId,
          reason: result,
          events: g.events,
          oldest_ts: g.oldestTs,
          last_event_before_gap: cursor.gapStopEventId,
        },
        'gap not filled: the history between the last event read before it and the oldest event the fill reached is missing',
      );
    cursor.gapToken = null;
    cursor.gapStopEventId = null;
    cursor.gapCount = 0;
  }
}

/**
 * Resolves and stores the room's customer identity and participants (after the writer was flushed). A room
 * that replaced `predecessor` takes the old room's stored identity where it cannot determine its own
 * (see {@link inheritIdentity}); the old room is identified first.
 */
export async function identifyRoom(
  d: Pick<RoomSyncDeps, 'reader' | 'sqlite' | 'rules' | 'now' | 'facts'>,
  roomId: string,
  info: RoomInfo,
  predecessor: string | null = null,
): Promise<RoomIdentity> {
  const history = stmt(
    d.sqlite,
    'select user_id as userId, membership, display_name as displayName from history_memberships where room_id = ? order by ts',
  ).all(roomId) as { userId: string; membership: string; displayName: string | null }[];
  let identity = await resolveIdentity(info, d.rules, history, (u) => d.reader.profile(u), d.facts.ghostProfiles);
  if (predecessor !== null) {
    const row = stmt(d.sqlite, 'select customer_key, no_phone_number from history_rooms where room_id = ?').get(
      predecessor,
    ) as { customer_key: string | null; no_phone_number: number } | undefined;
    if (row) {
      const customerOf = new Map<string, string>();
      for (const p of stmt(
        d.sqlite,
        "select user_id, customer_key from history_participants where room_id = ? and role = 'customer' and customer_key is not null",
      ).all(predecessor) as { user_id: string; customer_key: string }[])
        customerOf.set(p.user_id, p.customer_key);
      identity = inheritIdentity(identity, {
        customerKey: row.customer_key,
        noPhoneNumber: row.no_phone_number === 1,
        customerOf,
      });
    }
  }
  writeIdentity(d.sqlite, roomId, identity, d.now());
  return identity;
}

/**
 * Writes the room row. When the room's WhatsApp receiver changed (e.g. it is now inherited from the room it
 * replaced), the roles of the senders already stored are recomputed: the receiver's ghost is staff.
 */
function upsertRoom(db: Database.Database, roomId: string, info: RoomInfo, account: string, rules: RoleRules) {
  const before = stmt(db, 'select wa_receiver from history_rooms where room_id = ?').get(roomId) as
    { wa_receiver: string | null } | undefined;
  if (before && before.wa_receiver !== info.waReceiver) {
    const senders = stmt(db, 'select distinct sender from history_events where room_id = ?').all(roomId) as {
      sender: string;
    }[];
    const set = stmt(
      db,
      'update history_events set sender_role = ? where room_id = ? and sender = ? and sender_role <> ?',
    );
    for (const { sender } of senders) {
      const r = roleOf(rules, sender, info.waReceiver, info.waOwnLid);
      set.run(r, roomId, sender, r);
    }
  }
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
