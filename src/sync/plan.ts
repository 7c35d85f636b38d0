/**
 * Which rooms a sync run reads, and what it knows of each before reading: every candidate room's state is
 * read once (channel, bridge, upgrade links), then the selection rules of `[sync] rooms` are applied along
 * upgrade chains:
 * - a room that replaced a selected room (its tombstone's `replacement_room`) is selected too, whatever its
 *   own channel and even when `include` / `--room` do not name it; a sync account not in it joins it when
 *   `[sync] auto_join = true` (`POST /join/{roomId}?via=<server of the tombstone's sender>`), otherwise it
 *   is reported as "upgraded room not joined" (counted, logged, the run does not fail);
 * - a room that replaced an excluded room is excluded too (`--room` ignores `exclude`, as before);
 * - a successor takes its predecessor's channel and bridge facts when its own state cannot tell
 *   ({@link inheritRoomInfo}), whether the predecessor is read in this run or only stored;
 * - a replaced room that was read past its tombstone, with its backfill done and no gap, is finished: it is
 *   not read again (no `/state`, no `/messages`), but its stored facts and links still count;
 * - the predecessor a new room names, when a sync account is in it, has its state read even if it is not
 *   selected (its history is not): its tombstone is what confirms the link.
 */
import type Database from 'better-sqlite3';
import type { Channel } from '../db/schema/history.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BridgeFacts } from './bridge-facts.ts';
import type { MatrixReader } from './reader.ts';
import { describeRoom, type InheritableInfo, inheritRoomInfo, type RoomInfo } from './room-info.ts';
import type { RoomToRead } from './room-sync.ts';
import type { RoleRules } from './roles.ts';
import { stmt } from './statements.ts';
import type { HistoryStore } from './store.ts';
import { readRoomLinks, serverOf, storedMember, UpgradeLinks } from './upgrades.ts';

export interface Work {
  reader: MatrixReader;
  /** `/sync` `next_batch` of the reading account, taken before its rooms are read. */
  anchor: string;
}

export interface PlanDeps {
  sqlite: Database.Database;
  store: HistoryStore;
  rules: RoleRules;
  facts: BridgeFacts;
  log: Logger;
  now: () => number;
  signal: AbortSignal;
  /** Joined rooms → the account that reads them (successors joined by the plan are added). */
  work: Map<string, Work>;
  /** Every account's reader, in configuration order. */
  readers: readonly MatrixReader[];
  cli: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
  channels: readonly Channel[];
  autoJoin: boolean;
  concurrency: number;
  /** Records a room that could not be described (the run goes on without it). */
  fail: (roomId: string, err: unknown) => void;
  /** A run-level notice ("upgraded room not joined"): the run does not fail for it. */
  notice: (message: string) => void;
}

export interface PlannedRoom extends RoomToRead, Work {
  /** The room it replaced (effective upgrade link), whose identity it may inherit. */
  predecessor: string | null;
}

export interface Plan {
  /** Selected rooms to read, oldest of each upgrade chain first. */
  toRead: PlannedRoom[];
  /** Selected rooms that are finished (replaced and read to their end): not read. */
  finished: string[];
  /** Described rooms the channel rules leave out. */
  skipped: number;
  /** Successors joined by this run (`auto_join`). */
  upgradesJoined: number;
  /** Successors of selected rooms that no sync account is in (reported). */
  upgradesNotJoined: number;
  links: UpgradeLinks;
}

export async function planRooms(d: PlanDeps): Promise<Plan> {
  const described = new Map<string, RoomInfo>();
  const replaced = new Set<string>();
  const finished = new Set<string>();
  const failed = new Set<string>();
  const handled = new Set<string>();
  const followed = new Set<string>();
  /** Predecessors named by described rooms' `m.room.create`. */
  const claims: string[] = [];
  const inc = new Set(d.include);
  const ex = new Set(d.exclude);
  const explicit = new Set([...d.cli, ...d.include]);
  const links = new UpgradeLinks(
    d.sqlite,
    (room, user) => described.get(room)?.members.get(user)?.membership === 'join' || storedMember(d.sqlite, room, user),
    d.now,
  );
  const plan: Plan = { toRead: [], finished: [], skipped: 0, upgradesJoined: 0, upgradesNotJoined: 0, links };

  const storedInfo = (roomId: string): InheritableInfo | undefined => {
    const r = stmt(
      d.sqlite,
      'select channel, name, is_direct, remote_channel_id, wa_receiver from history_rooms where room_id = ?',
    ).get(roomId) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return {
      channel: r.channel as Channel,
      name: (r.name as string | null) ?? null,
      isDirect: r.is_direct === 1,
      remoteChannelId: (r.remote_channel_id as string | null) ?? null,
      waReceiver: (r.wa_receiver as string | null) ?? null,
    };
  };
  /** A room's description with what it inherits; the stored facts for a room not described in this run. */
  const infoOf = (roomId: string, seen = new Set<string>()): InheritableInfo | undefined => {
    seen.add(roomId);
    const own = described.get(roomId);
    if (!own) return storedInfo(roomId);
    const p = links.predecessorOf(roomId);
    const base = p !== undefined && !seen.has(p) ? infoOf(p, seen) : undefined;
    return base ? inheritRoomInfo(own, base, p!) : own;
  };
  const idSelected = (r: string) =>
    d.cli.length > 0 ? d.cli.includes(r) : (inc.size === 0 || inc.has(r)) && !ex.has(r);
  const excluded = (r: string, seen = new Set<string>()): boolean => {
    if (d.cli.length > 0) return false;
    if (ex.has(r)) return true;
    seen.add(r);
    const p = links.predecessorOf(r);
    return p !== undefined && !seen.has(p) && excluded(p, seen);
  };
  const selected = (r: string, seen = new Set<string>()): boolean => {
    if (failed.has(r) || excluded(r)) return false;
    const info = infoOf(r);
    if (!info) return false;
    if (idSelected(r) && (explicit.has(r) || d.channels.includes(info.channel))) return true;
    seen.add(r);
    const p = links.predecessorOf(r);
    return p !== undefined && !seen.has(p) && selected(p, seen);
  };

  const describe = async (roomId: string) => {
    const { reader } = d.work.get(roomId)!;
    const c = d.store.cursor(roomId, reader.userId);
    if (c?.forwardDone && c.backfillDone && c.gapToken === null && storedInfo(roomId)) {
      finished.add(roomId);
      return;
    }
    try {
      const state = await reader.roomState(roomId);
      const info = describeRoom(state, d.rules, d.facts.portalRooms.has(roomId));
      const rl = readRoomLinks(roomId, state);
      for (const problem of rl.problems) d.log.warn({ room_id: roomId }, problem);
      described.set(roomId, info);
      if (rl.tombstone) replaced.add(roomId);
      if (rl.predecessor) claims.push(rl.predecessor.roomId);
      for (const l of links.record(roomId, rl)) {
        d.log.info(
          { room_id: l.predecessor, successor: l.successor, body: l.body },
          l.tombstoneEventId ? 'room replaced (m.room.tombstone)' : 'room replaces another (m.room.create predecessor)',
        );
      }
    } catch (err) {
      failed.add(roomId);
      d.fail(roomId, err);
    }
  };

  const notJoined = (from: string, to: string, why: string) => {
    plan.upgradesNotJoined++;
    const message = `upgraded room not joined: ${from} was replaced by ${to} (${why})`;
    d.log.warn({ room_id: from, successor: to }, message);
    d.notice(message);
  };

  let queue = selectRooms([...d.work.keys()], d.cli, d.include, d.exclude);
  // On SIGTERM the plan stops where it is: the rooms not described are not read in this run.
  while (queue.length > 0 && !d.signal.aborted) {
    const batch = queue.filter((r) => !handled.has(r));
    queue = [];
    for (const r of batch) handled.add(r);
    let next = 0;
    const worker = async () => {
      while (next < batch.length && !d.signal.aborted) await describe(batch[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, d.concurrency) }, worker));
    if (d.signal.aborted) break;

    // A predecessor a sync account is in has its state read too (not its history, unless it is selected):
    // its tombstone confirms the link, e.g. for an excluded room or one outside `include` / `--room`.
    for (const c of claims.splice(0)) if (d.work.has(c) && !handled.has(c) && !queue.includes(c)) queue.push(c);

    // Follow the upgrades of selected rooms (read in this run, finished, or only stored).
    const candidates = [...handled, ...links.predecessors().filter((p) => !d.work.has(p))];
    for (const r of candidates) {
      if (followed.has(r) || !selected(r)) continue;
      followed.add(r);
      const link = links.successorOf(r);
      if (!link) continue;
      const s = link.successor;
      if (handled.has(s) || queue.includes(s) || (d.cli.length === 0 && ex.has(s))) continue;
      if (d.work.has(s)) {
        queue.push(s);
        continue;
      }
      if (!d.autoJoin) {
        notJoined(r, s, 'no sync account is in it; join it, or set [sync] auto_join = true');
        continue;
      }
      const reader = d.work.get(r)?.reader ?? readerOf(d, r);
      const via = link.tombstoneSender ? serverOf(link.tombstoneSender) : null;
      try {
        const joined = await reader.joinVia(s, via ? [via] : []);
        if (joined !== s) throw new Error(`the homeserver joined ${joined} instead`);
        // Joining adds events: the new room's walks start from a fresh anchor.
        d.work.set(s, { reader, anchor: (await reader.anchor()).nextBatch });
        plan.upgradesJoined++;
        d.log.info(
          { room_id: s, predecessor: r, account: reader.userId, via },
          'joined the room that replaced a synced room',
        );
        queue.push(s);
      } catch (err) {
        notJoined(r, s, `join as ${reader.userId} failed: ${describeError(err)}`);
      }
    }
  }

  for (const r of handled) {
    if (failed.has(r) || (!described.has(r) && !finished.has(r))) continue;
    if (!selected(r)) {
      plan.skipped++;
      continue;
    }
    if (finished.has(r)) {
      plan.finished.push(r);
      continue;
    }
    const own = described.get(r)!;
    const p = links.predecessorOf(r) ?? null;
    const base = p !== null ? infoOf(p, new Set([r])) : undefined;
    const info = base ? inheritRoomInfo(own, base, p!) : own;
    if (info.inheritedFrom !== null)
      d.log.info(
        { room_id: r, predecessor: p, channel: info.channel },
        'channel and bridge facts taken from the replaced room',
      );
    plan.toRead.push({
      roomId: r,
      info,
      replaced: replaced.has(r),
      predecessor: p,
      ...d.work.get(r)!,
    });
  }
  const depth = new Map(plan.toRead.map((t) => [t.roomId, links.depth(t.roomId)]));
  plan.toRead.sort((a, b) => depth.get(a.roomId)! - depth.get(b.roomId)!);
  return plan;
}

/** The reader of the account that last read `roomId`, else the first account's. */
function readerOf(d: PlanDeps, roomId: string): MatrixReader {
  const row = stmt(d.sqlite, 'select account from history_rooms where room_id = ?').get(roomId) as
    { account: string | null } | undefined;
  return d.readers.find((r) => r.userId === row?.account) ?? d.readers[0]!;
}

/** `--room` ids win; otherwise every joined room, limited to `include` when set, minus `exclude`. */
export function selectRooms(
  joined: readonly string[],
  cli: readonly string[] | undefined,
  include: readonly string[],
  exclude: readonly string[],
): string[] {
  const ex = new Set(exclude);
  if (cli && cli.length > 0) return cli.filter((r) => joined.includes(r));
  const inc = new Set(include);
  return joined.filter((r) => (inc.size === 0 || inc.has(r)) && !ex.has(r));
}
