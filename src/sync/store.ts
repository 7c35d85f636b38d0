/**
 * Writer of the history tables for one page of events. Hot path: prepared statements on the raw
 * better-sqlite3 connection, one transaction per page that also moves the room's cursor, so a kill -9 at
 * any moment leaves either the whole page and its cursor, or neither.
 *
 * Relations may arrive before their target (backward paging reads newest first), so edits, reactions and
 * redactions are always recorded in their own tables, and a target inserted later picks them up. The set of
 * such "pending" target ids is kept in memory per room (loaded from the database when the room starts).
 */
import type Database from 'better-sqlite3';
import { stmt } from './statements.ts';
import type { SenderRole } from '../db/schema/history.ts';
import { parseEvent } from './event-content.ts';
import type { ClientEvent } from './room-info.ts';

export interface CursorState {
  backwardToken: string | null;
  backfillDone: boolean;
  forwardToken: string | null;
  backfillCount: number;
  gapToken: string | null;
  /** The newest event read so far (stream order). */
  lastEventId: string | null;
  /** While a gap is filled: the event the fill walks back to. */
  gapStopEventId: string | null;
  /** Events stored by the current gap fill. */
  gapCount: number;
  /** Replaced room read past its tombstone: nothing more to read forward. */
  forwardDone: boolean;
}

export interface PageCounts {
  stored: number;
  messages: number;
  edits: number;
  redactions: number;
  reactions: number;
  memberships: number;
  encrypted: number;
  skipped: number;
  duplicates: number;
}

export const emptyCounts = (): PageCounts => ({
  stored: 0,
  messages: 0,
  edits: 0,
  redactions: 0,
  reactions: 0,
  memberships: 0,
  encrypted: 0,
  skipped: 0,
  duplicates: 0,
});

type Row = Record<string, unknown>;

/** One room's share of a write batch. */
export interface BatchEntry {
  roomId: string;
  account: string;
  events: readonly ClientEvent[];
  role: (userId: string) => SenderRole;
  /** The room's cursor after these events (a snapshot: later pages must not change it). */
  cursor: CursorState;
  /** Relation targets not stored yet, for this room (shared by its entries, updated in place). */
  pending: Set<string>;
  /** Message text older than this is not stored; null = keep. */
  cutoff: number | null;
  /** Writes the room row first (channel, name, ...), in the same transaction. */
  room?: (db: Database.Database) => void;
}

export class HistoryStore {
  readonly #db: Database.Database;
  readonly #s: Record<string, Database.Statement>;
  readonly #batch: (entries: readonly BatchEntry[], now: number) => PageCounts[];

  constructor(db: Database.Database) {
    this.#db = db;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      insertEvent:
        p(`insert or ignore into history_events (event_id, room_id, sender, sender_role, type, msgtype, body, formatted_body, ts,
        reply_to, thread_root, redacted, encrypted) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertEdit: p(
        'insert or ignore into history_edits (event_id, room_id, target_event_id, sender, ts, body, formatted_body) values (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertReaction: p(
        'insert or ignore into history_reactions (event_id, room_id, target_event_id, sender, key, ts, redacted) values (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertRedaction: p(
        'insert or ignore into history_redactions (event_id, room_id, target_event_id, sender, ts) values (?, ?, ?, ?, ?)',
      ),
      insertMember: p(
        'insert or ignore into history_memberships (event_id, room_id, user_id, sender, membership, display_name, reason, ts) values (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      eventForEdit: p('select sender, edited_at, redacted, original_body from history_events where event_id = ?'),
      applyEdit:
        p(`update history_events set original_body = case when edited_at is null then body else original_body end,
        original_formatted_body = case when edited_at is null then formatted_body else original_formatted_body end,
        body = ?, formatted_body = ?, edited_at = ? where event_id = ?`),
      bumpReaction: p('update history_events set reaction_count = reaction_count + 1 where event_id = ?'),
      dropReaction: p('update history_events set reaction_count = max(0, reaction_count - 1) where event_id = ?'),
      redactEvent:
        p(`update history_events set body = null, formatted_body = null, original_body = null, original_formatted_body = null,
        redacted = 1 where event_id = ?`),
      blankEditsOf: p('update history_edits set body = null, formatted_body = null where target_event_id = ?'),
      editById: p('select target_event_id from history_edits where event_id = ?'),
      blankEdit: p('update history_edits set body = null, formatted_body = null where event_id = ?'),
      redactReaction: p(
        'update history_reactions set redacted = 1 where event_id = ? and redacted = 0 returning target_event_id',
      ),
      reactionTarget: p('select target_event_id, redacted from history_reactions where event_id = ?'),
      hasRedaction: p('select 1 from history_redactions where target_event_id = ? limit 1'),
      newestEdit: p(
        'select body, formatted_body, ts from history_edits where target_event_id = ? and sender = ? and body is not null order by ts desc limit 1',
      ),
      restoreOriginal:
        p(`update history_events set body = original_body, formatted_body = original_formatted_body, original_body = null,
        original_formatted_body = null, edited_at = null where event_id = ? and edited_at is not null`),
      countReactions: p(
        'update history_events set reaction_count = (select count(*) from history_reactions where target_event_id = @id and redacted = 0) where event_id = @id',
      ),
      upsertCursor:
        p(`insert into sync_cursors (room_id, account, backward_token, backfill_done, forward_token, backfill_count, gap_token,
        last_event_id, gap_stop_event_id, gap_count, forward_done, updated_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (room_id, account) do update set backward_token = excluded.backward_token,
        backfill_done = excluded.backfill_done, forward_token = excluded.forward_token, backfill_count = excluded.backfill_count,
        gap_token = excluded.gap_token, last_event_id = excluded.last_event_id, gap_stop_event_id = excluded.gap_stop_event_id,
        gap_count = excluded.gap_count, forward_done = excluded.forward_done, updated_at = excluded.updated_at`),
      encryptedSeen: p(
        'update history_rooms set encrypted_event_count = encrypted_event_count + ?, encrypted = 1 where room_id = ?',
      ),
    };
    this.#batch = db.transaction((entries: readonly BatchEntry[], now: number) =>
      entries.map((e) => {
        const counts = emptyCounts();
        if (e.room) e.room(db);
        for (const ev of e.events) this.#apply(e.roomId, ev, e.role, e.pending, e.cutoff, counts);
        if (counts.encrypted > 0) this.#s.encryptedSeen!.run(counts.encrypted, e.roomId);
        const c = e.cursor;
        this.#s.upsertCursor!.run(
          e.roomId,
          e.account,
          c.backwardToken,
          c.backfillDone ? 1 : 0,
          c.forwardToken,
          c.backfillCount,
          c.gapToken,
          c.lastEventId,
          c.gapStopEventId,
          c.gapCount,
          c.forwardDone ? 1 : 0,
          now,
        );
        return counts;
      }),
    );
  }

  /**
   * Stores several rooms' pages and moves each room's cursor, all in one transaction (entries are applied
   * in order). Returns the counts per entry.
   */
  applyBatch(entries: readonly BatchEntry[], now: number): PageCounts[] {
    return this.#batch(entries, now);
  }

  cursor(roomId: string, account: string): CursorState | undefined {
    const r = stmt(this.#db, 'select * from sync_cursors where room_id = ? and account = ?').get(roomId, account) as
      Row | undefined;
    if (!r) return undefined;
    return {
      backwardToken: (r.backward_token as string | null) ?? null,
      backfillDone: r.backfill_done === 1,
      forwardToken: (r.forward_token as string | null) ?? null,
      backfillCount: Number(r.backfill_count ?? 0),
      gapToken: (r.gap_token as string | null) ?? null,
      lastEventId: (r.last_event_id as string | null) ?? null,
      gapStopEventId: (r.gap_stop_event_id as string | null) ?? null,
      gapCount: Number(r.gap_count ?? 0),
      forwardDone: r.forward_done === 1,
    };
  }

  /** True when the event is already stored (any table). */
  known(eventId: string): boolean {
    return (
      stmt(
        this.#db,
        `select 1 from history_events where event_id = @id union all select 1 from history_edits where event_id = @id
          union all select 1 from history_reactions where event_id = @id union all select 1 from history_redactions where event_id = @id
          union all select 1 from history_memberships where event_id = @id limit 1`,
      ).get({ id: eventId }) !== undefined
    );
  }

  /** Targets of stored relations whose target is not stored yet (they are applied when it arrives). */
  loadPending(roomId: string): Set<string> {
    const rows = stmt(
      this.#db,
      `select target_event_id as t from (
          select target_event_id from history_edits where room_id = @id union select target_event_id from history_reactions where room_id = @id
          union select target_event_id from history_redactions where room_id = @id)
        where target_event_id not in (select event_id from history_events where room_id = @id)
          and target_event_id not in (select event_id from history_edits where room_id = @id)
          and target_event_id not in (select event_id from history_reactions where room_id = @id)`,
    ).all({ id: roomId }) as { t: string }[];
    return new Set(rows.map((r) => r.t));
  }

  #apply(
    roomId: string,
    ev: ClientEvent,
    role: (u: string) => SenderRole,
    pending: Set<string>,
    cutoff: number | null,
    counts: PageCounts,
  ): void {
    const s = this.#s;
    const p = parseEvent(ev);
    const ts = ev.origin_server_ts;
    const old = cutoff !== null && ts < cutoff;
    let changes = 0;
    switch (p.kind) {
      case 'message':
        changes = s.insertEvent!.run(
          ev.event_id,
          roomId,
          ev.sender,
          role(ev.sender),
          ev.type,
          p.msgtype,
          old ? null : p.body,
          old ? null : p.formattedBody,
          ts,
          p.replyTo,
          p.threadRoot,
          p.redacted ? 1 : 0,
          0,
        ).changes;
        if (changes) counts.messages++;
        break;
      case 'encrypted':
        changes = s.insertEvent!.run(
          ev.event_id,
          roomId,
          ev.sender,
          role(ev.sender),
          ev.type,
          null,
          null,
          null,
          ts,
          p.replyTo,
          p.threadRoot,
          0,
          1,
        ).changes;
        if (changes) counts.encrypted++;
        break;
      case 'edit':
        changes = s.insertEdit!.run(
          ev.event_id,
          roomId,
          p.target,
          ev.sender,
          ts,
          old ? null : p.body,
          old ? null : p.formattedBody,
        ).changes;
        if (changes) {
          counts.edits++;
          if (pending.has(ev.event_id) && s.hasRedaction!.get(ev.event_id)) s.blankEdit!.run(ev.event_id);
          else this.#applyEdit(p.target, ev.sender, ts, old ? null : p.body, old ? null : p.formattedBody, pending);
        }
        break;
      case 'reaction': {
        const gone = pending.has(ev.event_id) && s.hasRedaction!.get(ev.event_id) !== undefined;
        changes = s.insertReaction!.run(ev.event_id, roomId, p.target, ev.sender, p.key, ts, gone ? 1 : 0).changes;
        if (changes) {
          counts.reactions++;
          if (!gone && s.bumpReaction!.run(p.target).changes === 0) pending.add(p.target);
        }
        break;
      }
      case 'redaction':
        changes = s.insertRedaction!.run(ev.event_id, roomId, p.target, ev.sender, ts).changes;
        if (changes) {
          counts.redactions++;
          if (!this.#redact(p.target, pending)) pending.add(p.target);
        }
        break;
      case 'member':
        changes = s.insertMember!.run(
          ev.event_id,
          roomId,
          p.userId,
          ev.sender,
          p.membership,
          p.displayName,
          p.reason,
          ts,
        ).changes;
        if (changes) counts.memberships++;
        break;
      default:
        counts.skipped++;
        return;
    }
    if (changes === 0) {
      counts.duplicates++;
      return;
    }
    counts.stored++;
    if ((p.kind === 'message' || p.kind === 'encrypted') && pending.has(ev.event_id))
      this.#resolvePending(ev.event_id, ev.sender, pending);
  }

  #applyEdit(
    target: string,
    sender: string,
    ts: number,
    body: string | null,
    html: string | null,
    pending: Set<string>,
  ) {
    const row = this.#s.eventForEdit!.get(target) as Row | undefined;
    if (!row) {
      pending.add(target);
      return;
    }
    // Only the original sender may edit; the newest edit wins; a redacted message stays empty.
    if (row.sender !== sender || row.redacted === 1) return;
    if (row.edited_at !== null && (row.edited_at as number) > ts) return;
    this.#s.applyEdit!.run(body, html, ts, target);
  }

  /** A message or encrypted event just arrived that earlier-stored relations point at. */
  #resolvePending(eventId: string, sender: string, pending: Set<string>) {
    const s = this.#s;
    pending.delete(eventId);
    if (s.hasRedaction!.get(eventId)) {
      this.#redact(eventId, pending);
      return;
    }
    const e = s.newestEdit!.get(eventId, sender) as Row | undefined;
    if (e) s.applyEdit!.run(e.body, e.formatted_body, e.ts, eventId);
    s.countReactions!.run({ id: eventId });
  }

  /** Applies a redaction to whatever it targets; false when the target is not stored (yet). */
  #redact(target: string, pending: Set<string>): boolean {
    const s = this.#s;
    if (s.redactEvent!.run(target).changes > 0) {
      s.blankEditsOf!.run(target);
      return true;
    }
    const edit = s.editById!.get(target) as Row | undefined;
    if (edit) {
      s.blankEdit!.run(target);
      this.#recomputeAfterEditRedaction(edit.target_event_id as string);
      return true;
    }
    const reaction = s.redactReaction!.get(target) as Row | undefined;
    if (reaction) {
      s.dropReaction!.run(reaction.target_event_id);
      return true;
    }
    if (s.reactionTarget!.get(target)) return true;
    void pending;
    return false;
  }

  #recomputeAfterEditRedaction(target: string) {
    const s = this.#s;
    const row = s.eventForEdit!.get(target) as Row | undefined;
    if (!row || row.redacted === 1) return;
    const e = s.newestEdit!.get(target, row.sender) as Row | undefined;
    if (e) s.applyEdit!.run(e.body, e.formatted_body, e.ts, target);
    else s.restoreOriginal!.run(target);
  }
}
