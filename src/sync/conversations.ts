/**
 * Writer of `conversations` (and of `history_events.conversation_id`): recomputes a room's segments from
 * the stored messages and writes only what changed, bumping `revision` so classify and export see it.
 * A segment is keyed `<room id>#<start ms>`; if earlier messages arrive (backfill), the segment starts
 * earlier, gets a new id, and the old row is removed.
 *
 * Upgraded rooms: the rooms of one upgrade chain (old room first) are segmented as one timeline, so a
 * conversation going on when a room was replaced continues in the new room as the same segment. A segment
 * belongs to the room of its first message (`room_id`, the id's prefix), whose channel and customer it takes.
 */
import type Database from 'better-sqlite3';
import { stmt } from './statements.ts';
import type { Channel } from '../db/schema/history.ts';
import { SegmentAccumulator, type SegmentMetrics } from './segments.ts';

export interface ConversationCounts {
  created: number;
  updated: number;
  deleted: number;
}

type Row = Record<string, unknown>;

const FIELDS = [
  ['startedAt', 'started_at'],
  ['lastMessageAt', 'last_message_at'],
  ['messageCount', 'message_count'],
  ['customerMessageCount', 'customer_message_count'],
  ['agentMessageCount', 'agent_message_count'],
  ['firstResponseSeconds', 'first_response_seconds'],
  ['meanResponseSeconds', 'mean_response_seconds'],
  ['resolutionSeconds', 'resolution_seconds'],
  ['status', 'status'],
] as const;

/**
 * Recomputes every segment of one room, or of the rooms of one upgrade chain (oldest first), in one
 * transaction.
 */
export function recomputeConversations(
  db: Database.Database,
  roomIds: string | readonly string[],
  o: { gapMs: number; now: number },
): ConversationCounts {
  const ids = typeof roomIds === 'string' ? [roomIds] : [...roomIds];
  return db.transaction(() => {
    const counts: ConversationCounts = { created: 0, updated: 0, deleted: 0 };
    const rooms = new Map<string, { channel: Channel; customerKey: string | null }>();
    for (const id of ids) {
      const r = stmt(db, 'select channel, customer_key from history_rooms where room_id = ?').get(id) as
        Row | undefined;
      if (r) rooms.set(id, { channel: r.channel as Channel, customerKey: (r.customer_key as string | null) ?? null });
    }
    if (rooms.size === 0) return counts;
    const members = [...rooms.keys()];
    const customerOf = new Map<string, Map<string, string | null>>();
    let hasCustomer = false;
    for (const roomId of members) {
      const m = new Map<string, string | null>();
      customerOf.set(roomId, m);
      for (const p of stmt(db, 'select user_id, role, customer_key from history_participants where room_id = ?').all(
        roomId,
      ) as Row[]) {
        m.set(p.user_id as string, (p.customer_key as string | null) ?? null);
        if (p.role === 'customer') hasCustomer = true;
      }
    }
    // Streamed in ts order: only the running segment's aggregates are in memory, whatever the room's size.
    const finished: { acc: SegmentAccumulator; room: string }[] = [];
    let acc = new SegmentAccumulator();
    let accRoom = members[0]!;
    const single = members.length === 1;
    const where = single ? 'room_id = ?' : `room_id in (${members.map(() => '?').join(', ')})`;
    const iter = stmt(
      db,
      `select event_id, ts, sender, sender_role, encrypted${single ? '' : ', room_id'} from history_events
        where ${where} and sender_role in ('customer', 'staff') and type in ('m.room.message', 'm.sticker', 'm.room.encrypted')
        order by ts, event_id`,
    )
      .raw()
      .iterate(...members) as IterableIterator<[string, number, string, 'customer' | 'staff', number, string?]>;
    for (const [eventId, ts, sender, role, encrypted, roomOfEvent] of iter) {
      const room = roomOfEvent ?? accRoom;
      const last = acc.lastTs;
      if (last !== undefined && ts - last > o.gapMs) {
        finished.push({ acc, room: accRoom });
        acc = new SegmentAccumulator();
      }
      if (acc.lastTs === undefined) accRoom = room;
      acc.add({
        eventId,
        ts,
        sender,
        role,
        encrypted: encrypted === 1,
        customerKey: customerOf.get(room)!.get(sender) ?? null,
      });
    }
    if (acc.lastTs !== undefined) finished.push({ acc, room: accRoom });
    // A room nobody on the customer side was ever in (a DM with a bridge bot, a staff-only room) holds no
    // support conversation: its segments are not kept.
    if (!hasCustomer && !finished.some((f) => f.acc.hasCustomerMessage)) finished.length = 0;
    const existing = new Map<string, Row>();
    for (const r of stmt(db, `select * from conversations where ${where}`).all(...members) as Row[])
      existing.set(r.id as string, r);
    const insert = stmt(
      db,
      `insert into conversations (id, room_id, channel, customer_key, started_at, last_message_at, message_count,
      customer_message_count, agent_message_count, first_response_seconds, mean_response_seconds, resolution_seconds, status, agents,
      encrypted, revision, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    );
    const update = stmt(
      db,
      `update conversations set channel = ?, customer_key = ?, started_at = ?, last_message_at = ?, message_count = ?,
      customer_message_count = ?, agent_message_count = ?, first_response_seconds = ?, mean_response_seconds = ?, resolution_seconds = ?,
      status = ?, agents = ?, encrypted = ?, revision = revision + 1, updated_at = ? where id = ?`,
    );
    const tag = stmt(
      db,
      'update history_events set conversation_id = @id where room_id = @room and ts between @from and @to and conversation_id is not @id',
    );
    const seen = new Set<string>();
    finished.forEach(({ acc: seg, room: segRoom }, i) => {
      const m = seg.finish({ gapMs: o.gapMs, now: o.now, closed: i < finished.length - 1 });
      const id = `${segRoom}#${m.startedAt}`;
      seen.add(id);
      const room = rooms.get(segRoom)!;
      const customerKey = room.customerKey ?? m.customerKey;
      const agents = JSON.stringify(m.agents);
      const values = [
        room.channel,
        customerKey,
        m.startedAt,
        m.lastMessageAt,
        m.messageCount,
        m.customerMessageCount,
        m.agentMessageCount,
        m.firstResponseSeconds,
        m.meanResponseSeconds,
        m.resolutionSeconds,
        m.status,
        agents,
        m.encrypted ? 1 : 0,
      ] as const;
      const old = existing.get(id);
      if (!old) {
        insert.run(id, segRoom, ...values, o.now);
        counts.created++;
      } else if (differs(old, m, customerKey, agents, room.channel)) {
        update.run(...values, o.now, id);
        counts.updated++;
      } else return;
      for (const r of members) tag.run({ id, room: r, from: m.startedAt, to: m.lastMessageAt });
    });
    const del = stmt(db, 'delete from conversations where id = ?');
    for (const id of existing.keys()) {
      if (seen.has(id)) continue;
      del.run(id);
      counts.deleted++;
    }
    return counts;
  })();
}

function differs(old: Row, m: SegmentMetrics, customerKey: string | null, agents: string, channel: string): boolean {
  if (
    old.customer_key !== customerKey ||
    old.agents !== agents ||
    old.channel !== channel ||
    (old.encrypted === 1) !== m.encrypted
  )
    return true;
  return FIELDS.some(([k, col]) => old[col] !== m[k]);
}

/** Rooms whose last segment waits on the customer past the gap: their status turns RESOLVED without new events. */
export function roomsWithStaleStatus(db: Database.Database, o: { gapMs: number; now: number }): string[] {
  const rows = stmt(
    db,
    `select distinct room_id from conversations where status = 'WAITING_ON_CUSTOMER' and last_message_at < ?`,
  ).all(o.now - o.gapMs) as { room_id: string }[];
  return rows.map((r) => r.room_id);
}
