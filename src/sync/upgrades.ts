/**
 * Room upgrades (spec "Room upgrades"): an old room's `m.room.tombstone` state names its replacement
 * (`content.replacement_room`), and the new room's `m.room.create` names its predecessor
 * (`content.predecessor.room_id`). Both are read from room state and stored in `history_room_upgrades`;
 * {@link UpgradeLinks} answers which links the sync follows.
 *
 * Which links count ("effective"):
 * - the old room's current tombstone: only users with the power to do so can send it in that room;
 * - a new room's `predecessor` alone (the old room's tombstone not seen: not read yet, or no sync account is
 *   in it any more), when the old room has no tombstone naming another room and the new room's creator was a
 *   member of the old room (as the user who upgrades a room is). Anyone can create a room that claims any
 *   predecessor; this keeps a stranger's room out of a customer's history.
 */
import type Database from 'better-sqlite3';
import type { ClientEvent } from './room-info.ts';
import { stmt } from './statements.ts';

export interface Tombstone {
  eventId: string;
  sender: string;
  replacementRoom: string;
  /** The server-defined message; null when the event carries none. */
  body: string | null;
}

export interface PredecessorClaim {
  roomId: string;
  /** Sender of the new room's `m.room.create`: its creator. */
  creator: string;
}

/** Room IDs: `!opaque:server` (room versions 1–11) or `!opaque` (version 12, the create event's hash). */
const ROOM_ID = /^![^\s:]+(?::\S+)?$/;
/** Server name grammar of the spec appendix: hostname, IPv4 or [IPv6] literal, optional port. */
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

export const isRoomId = (v: unknown): v is string => typeof v === 'string' && v.length <= 255 && ROOM_ID.test(v);

/** The server part of a user ID, when it is a valid server name. */
export function serverOf(userId: string): string | null {
  const at = userId.indexOf(':');
  if (!userId.startsWith('@') || at < 0) return null;
  const server = userId.slice(at + 1);
  return SERVER_NAME.test(server) ? server : null;
}

export interface RoomLinks {
  tombstone: Tombstone | null;
  predecessor: PredecessorClaim | null;
  /** Why an upgrade event present in the state was not used (malformed content). */
  problems: string[];
}

/** The upgrade events of a room's current state, validated. */
export function readRoomLinks(roomId: string, state: readonly ClientEvent[]): RoomLinks {
  const out: RoomLinks = { tombstone: null, predecessor: null, problems: [] };
  for (const ev of state) {
    if (ev.state_key !== '') continue;
    if (ev.type === 'm.room.tombstone') {
      const target = ev.content.replacement_room;
      // A tombstone whose content was emptied (redacted) or never named a room is no upgrade.
      if (!isRoomId(target)) {
        if (target !== undefined || Object.keys(ev.content).length > 0)
          out.problems.push(`m.room.tombstone ${ev.event_id}: replacement_room is not a room ID (ignored)`);
        continue;
      }
      if (target === roomId) {
        out.problems.push(`m.room.tombstone ${ev.event_id}: names the room itself (ignored)`);
        continue;
      }
      out.tombstone = {
        eventId: ev.event_id,
        sender: ev.sender,
        replacementRoom: target,
        body: typeof ev.content.body === 'string' ? ev.content.body : null,
      };
    } else if (ev.type === 'm.room.create') {
      const p = ev.content.predecessor;
      if (p === undefined) continue;
      const id = p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>).room_id : p;
      if (!isRoomId(id) || id === roomId) {
        out.problems.push(`m.room.create: predecessor.room_id is not another room's ID (ignored)`);
        continue;
      }
      out.predecessor = { roomId: id, creator: ev.sender };
    }
  }
  return out;
}

export interface UpgradeLink {
  predecessor: string;
  successor: string;
  tombstoneEventId: string | null;
  tombstoneSender: string | null;
  body: string | null;
  claimedBy: string | null;
}

type Row = Record<string, unknown>;

/**
 * The stored upgrade links, updated as room states are read. `memberOf(room, user)` says whether a user was
 * ever a member of a room (this run's state or the stored history): it decides whether a predecessor claim
 * alone is trusted.
 */
export class UpgradeLinks {
  readonly #db: Database.Database;
  readonly #links = new Map<string, UpgradeLink>();
  /** Rooms named by any link: every other room answers at once (upgrades are rare). */
  readonly #linked = new Set<string>();
  readonly #memberOf: (room: string, user: string) => boolean;
  readonly #now: () => number;

  constructor(db: Database.Database, memberOf: (room: string, user: string) => boolean, now: () => number) {
    this.#db = db;
    this.#memberOf = memberOf;
    this.#now = now;
    for (const r of stmt(db, 'select * from history_room_upgrades').all() as Row[]) {
      const link: UpgradeLink = {
        predecessor: r.predecessor_room_id as string,
        successor: r.successor_room_id as string,
        tombstoneEventId: (r.tombstone_event_id as string | null) ?? null,
        tombstoneSender: (r.tombstone_sender as string | null) ?? null,
        body: (r.body as string | null) ?? null,
        claimedBy: (r.claimed_by as string | null) ?? null,
      };
      this.#links.set(key(link.predecessor, link.successor), link);
      this.#linked.add(link.predecessor).add(link.successor);
    }
  }

  /**
   * Records what a room's current state says: its tombstone (or that it has none any more) and its
   * predecessor claim. Returns the links that are new.
   */
  record(roomId: string, links: RoomLinks): UpgradeLink[] {
    const fresh: UpgradeLink[] = [];
    const now = this.#now();
    this.#db.transaction(() => {
      // The old room's side: only its current tombstone names a successor.
      for (const l of [...this.#links.values()]) {
        if (l.predecessor !== roomId || l.tombstoneEventId === null) continue;
        if (links.tombstone?.replacementRoom === l.successor) continue;
        l.tombstoneEventId = l.tombstoneSender = l.body = null;
        this.#save(l, now);
      }
      const t = links.tombstone;
      if (t) {
        const k = key(roomId, t.replacementRoom);
        const old = this.#links.get(k);
        const l: UpgradeLink = old ?? {
          predecessor: roomId,
          successor: t.replacementRoom,
          tombstoneEventId: null,
          tombstoneSender: null,
          body: null,
          claimedBy: null,
        };
        if (l.tombstoneEventId !== t.eventId || l.body !== t.body) {
          if (!old || old.tombstoneEventId === null) fresh.push(l);
          Object.assign(l, { tombstoneEventId: t.eventId, tombstoneSender: t.sender, body: t.body });
          this.#links.set(k, l);
          this.#save(l, now);
        }
      }
      // The new room's side: its create event is immutable, so a claim is only ever added.
      const p = links.predecessor;
      if (p) {
        const k = key(p.roomId, roomId);
        const old = this.#links.get(k);
        if (old?.claimedBy !== p.creator) {
          const l: UpgradeLink = old ?? {
            predecessor: p.roomId,
            successor: roomId,
            tombstoneEventId: null,
            tombstoneSender: null,
            body: null,
            claimedBy: null,
          };
          if (!old) fresh.push(l);
          l.claimedBy = p.creator;
          this.#links.set(k, l);
          this.#save(l, now);
        }
      }
      // A link nobody vouches for any more (the tombstone changed, and no claim) is dropped.
      for (const [k, l] of this.#links) {
        if (l.tombstoneEventId !== null || l.claimedBy !== null) continue;
        this.#links.delete(k);
        stmt(this.#db, 'delete from history_room_upgrades where predecessor_room_id = ? and successor_room_id = ?').run(
          l.predecessor,
          l.successor,
        );
      }
    })();
    return fresh;
  }

  /** Rooms whose tombstone names a successor. */
  predecessors(): string[] {
    return [...new Set([...this.#links.values()].filter((l) => l.tombstoneEventId !== null).map((l) => l.predecessor))];
  }

  /** The room that replaced `roomId`, named by `roomId`'s own tombstone. */
  successorOf(roomId: string): UpgradeLink | undefined {
    if (!this.#linked.has(roomId)) return undefined;
    for (const l of this.#links.values()) if (l.predecessor === roomId && l.tombstoneEventId !== null) return l;
    return undefined;
  }

  /** The room `roomId` replaced, if an effective link says so (the tombstone's word first). */
  predecessorOf(roomId: string): string | undefined {
    if (!this.#linked.has(roomId)) return undefined;
    let claimed: string | undefined;
    for (const l of this.#links.values()) {
      if (l.successor !== roomId) continue;
      if (l.tombstoneEventId !== null) return l.predecessor;
      if (claimed === undefined && this.#claimTrusted(l)) claimed = l.predecessor;
    }
    return claimed;
  }

  /** A room's upgrade chain, oldest room first (the room alone when it has no effective link). */
  chain(roomId: string): string[] {
    const seen = new Set<string>([roomId]);
    const back: string[] = [];
    for (let p = this.predecessorOf(roomId); p !== undefined && !seen.has(p); p = this.predecessorOf(p)) {
      seen.add(p);
      back.unshift(p);
    }
    const fwd: string[] = [];
    for (let s = this.#effectiveSuccessor(roomId); s !== undefined && !seen.has(s); s = this.#effectiveSuccessor(s)) {
      seen.add(s);
      fwd.push(s);
    }
    return [...back, roomId, ...fwd];
  }

  /** How many rooms precede `roomId` in its chain (0 for a room that replaced nothing). */
  depth(roomId: string): number {
    return this.chain(roomId).indexOf(roomId);
  }

  #effectiveSuccessor(roomId: string): string | undefined {
    if (!this.#linked.has(roomId)) return undefined;
    const t = this.successorOf(roomId);
    if (t && this.predecessorOf(t.successor) === roomId) return t.successor;
    for (const l of this.#links.values())
      if (l.predecessor === roomId && this.predecessorOf(l.successor) === roomId) return l.successor;
    return undefined;
  }

  #claimTrusted(l: UpgradeLink): boolean {
    if (l.claimedBy === null) return false;
    // The old room's tombstone names another room: its word wins over the claim.
    const named = this.successorOf(l.predecessor);
    if (named && named.successor !== l.successor) return false;
    return this.#memberOf(l.predecessor, l.claimedBy);
  }

  #save(l: UpgradeLink, now: number) {
    this.#linked.add(l.predecessor).add(l.successor);
    stmt(
      this.#db,
      `insert into history_room_upgrades (predecessor_room_id, successor_room_id, tombstone_event_id, tombstone_sender, body,
        claimed_by, detected_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)
      on conflict (predecessor_room_id, successor_room_id) do update set tombstone_event_id = excluded.tombstone_event_id,
        tombstone_sender = excluded.tombstone_sender, body = excluded.body, claimed_by = excluded.claimed_by,
        updated_at = excluded.updated_at`,
    ).run(l.predecessor, l.successor, l.tombstoneEventId, l.tombstoneSender, l.body, l.claimedBy, now, now);
  }
}

const key = (pred: string, succ: string) => `${pred}\n${succ}`;

/** Whether `user` was ever a member of `room` according to the stored history (memberships, participants). */
export function storedMember(db: Database.Database, room: string, user: string): boolean {
  return (
    stmt(
      db,
      `select 1 from history_memberships where room_id = @room and user_id = @user and membership = 'join'
        union all select 1 from history_participants where room_id = @room and user_id = @user limit 1`,
    ).get({ room, user }) !== undefined
  );
}
