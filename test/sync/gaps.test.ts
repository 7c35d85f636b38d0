import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forgetCustomerHistory, runSync } from '../../src/sync/index.ts';
import { addGhost, edit, plainRoom, react, say } from '../../src/testing/fake-homeserver/fixtures.ts';
import type { FakeRoom } from '../../src/testing/fake-homeserver/index.ts';
import { DAY, type Harness, HOUR, harness, MIN, noSleep, type RawConfig, T0 } from './harness.ts';

type Row = Record<string, unknown>;

describe('sync: gaps (refused tokens, purged history, stale tokens)', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const one = (sql: string, ...p: unknown[]) => h.db.sqlite.prepare(sql).get(...p) as Row;
  const sync = (room: FakeRoom, raw: Record<string, unknown> = {}, notices: string[] = []) =>
    runSync(h.ctx(h.config({ sync: { rooms: { include: [room.id] }, page_size: 3, ...raw } } as RawConfig)), {
      env: h.env,
      sleep: noSleep,
      onNotice: (m) => notices.push(m),
    });
  const refuseOnce = (errcode: string, error: string) =>
    h.hs.fail({ path: /\/messages$/, status: 400, body: { errcode, error } });
  const count = (room: FakeRoom) => one('select count(*) n from history_events where room_id = ?', room.id).n;
  const cursor = (room: FakeRoom) => one('select * from sync_cursors where room_id = ?', room.id);

  it('a token refused the way Synapse does (400 M_UNKNOWN "Invalid stream token") is a gap, filled back to the last event read', async () => {
    const cust = addGhost(h.hs.model, '@g1:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, room, cust, 'a', T0 + MIN);
    await sync(room);
    for (let i = 0; i < 7; i++) say(h.hs.model, room, cust, `m${i}`, T0 + (2 + i) * MIN);
    refuseOnce('M_UNKNOWN', 'Invalid stream token');
    const c = await sync(room);
    assert.deepEqual([c.gaps_detected, c.gaps_filled, c.gaps_unfilled, c.rooms_failed], [1, 1, 0, 0]);
    assert.equal(c.messages, 7);
    assert.equal(c.duplicates, 0, 'the fill stops at the last event read, it does not re-read older ones');
    assert.equal(count(room), 8);
    assert.deepEqual([cursor(room).gap_token, cursor(room).gap_stop_event_id], [null, null]);
  });

  it('history purged past the last event read: the fill ends at the start of what the server still has, records the gap, and does not fail', async () => {
    const cust = addGhost(h.hs.model, '@g2:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, room, cust, 'a', T0 + MIN);
    await sync(room);
    const fresh = Array.from({ length: 10 }, (_, i) => say(h.hs.model, room, cust, `m${i}`, T0 + (2 + i) * MIN));
    h.hs.model.purgeHistory(room, fresh[5]!.event_id);
    refuseOnce('M_INVALID_PARAM', 'Unknown token');
    const notices: string[] = [];
    const c = await sync(room, {}, notices);
    assert.deepEqual([c.gaps_detected, c.gaps_filled, c.gaps_unfilled, c.rooms_failed], [1, 0, 1, 0]);
    assert.equal(c.messages, 5, 'what survived the purge is stored');
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, new RegExp(`^gap not filled in ${room.id.replace(/[!$.]/g, '\\$&')}: start of history`));
    assert.match(notices[0]!, new RegExp(new Date(T0 + 7 * MIN).toISOString().replace(/[.]/g, '\\.')));
    assert.deepEqual([cursor(room).gap_token, cursor(room).gap_count], [null, 0]);
    const again = await sync(room);
    assert.deepEqual([again.messages, again.duplicates, again.gaps_detected], [0, 0, 0]);
  });

  it('a gap fill that cannot reach the last event read stops at backfill_days, or after max_events_per_room events', async () => {
    const cust = addGhost(h.hs.model, '@g3:remote.example');
    const now = h.clock.now;
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], now - 20 * DAY);
    say(h.hs.model, room, cust, 'long ago', now - 20 * DAY);
    await sync(room, { backfill_days: 30 });
    const old = Array.from({ length: 6 }, (_, i) => say(h.hs.model, room, cust, `o${i}`, now - 10 * DAY + i * MIN));
    say(h.hs.model, room, cust, 'r0', now - HOUR);
    say(h.hs.model, room, cust, 'r1', now - HOUR + MIN);
    h.hs.model.purgeHistory(room, old[0]!.event_id);
    refuseOnce('M_INVALID_PARAM', 'Unknown token');
    const backBefore = h.hs.requestsTo(/\/messages$/).filter((r) => r.query.dir === 'b').length;
    const notices: string[] = [];
    const c = await sync(room, { backfill_days: 3, page_size: 2 }, notices);
    assert.deepEqual([c.gaps_unfilled, c.messages], [1, 2]);
    assert.match(notices[0]!, /backfill days/);
    assert.equal(
      h.hs.requestsTo(/\/messages$/).filter((r) => r.query.dir === 'b').length - backBefore,
      2,
      'the walk stops on the first page entirely older than the bound',
    );

    const room2 = plainRoom(h.hs.model, h.agent.userId, [cust], now - 2 * DAY);
    say(h.hs.model, room2, cust, 'first', now - 2 * DAY);
    await sync(room2);
    const later = Array.from({ length: 6 }, (_, i) => say(h.hs.model, room2, cust, `n${i}`, now - DAY + i * MIN));
    h.hs.model.purgeHistory(room2, later[0]!.event_id);
    refuseOnce('M_INVALID_PARAM', 'Unknown token');
    const notices2: string[] = [];
    const c2 = await sync(room2, { max_events_per_room: 3, page_size: 2 }, notices2);
    assert.deepEqual([c2.gaps_unfilled, c2.messages], [1, 3]);
    assert.match(notices2[0]!, /max events per room/);
    assert.deepEqual(
      (h.db.sqlite.prepare('select body from history_events where room_id = ? order by ts').all(room2.id) as Row[]).map(
        (r) => r.body,
      ),
      ['first', 'n3', 'n4', 'n5'],
      'the newest events are the ones kept',
    );
  });

  it('a stored token that is accepted but replays events already stored: duplicates are skipped by event ID, nothing counted twice', async () => {
    const cust = addGhost(h.hs.model, '@g4:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    const m1 = say(h.hs.model, room, cust, 'helo', T0 + MIN);
    edit(h.hs.model, room, m1, 'hello', T0 + 2 * MIN);
    react(h.hs.model, room, h.agent.userId, m1, '👍', T0 + 3 * MIN);
    await sync(room);
    say(h.hs.model, room, h.agent.userId, 'hi', T0 + 4 * MIN);
    // A token from before the events above (e.g. the server handed out positions again after a restore).
    const before = room.events.indexOf(room.events.find((e) => e.event_id === m1.event_id)!);
    h.db.sqlite.prepare('update sync_cursors set forward_token = ? where room_id = ?').run(`p${before}`, room.id);
    const c = await sync(room);
    assert.deepEqual([c.duplicates, c.messages, c.edits, c.reactions], [3, 1, 0, 0]);
    assert.deepEqual(one('select body, reaction_count from history_events where event_id = ?', m1.event_id), {
      body: 'hello',
      reaction_count: 1,
    });
    assert.equal(one('select message_count from conversations where room_id = ?', room.id).message_count, 2);
  });

  it('a gap after an erasure stops at the last event read, so the erased history is not imported again', async () => {
    const cust = addGhost(h.hs.model, '@g5:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, room, cust, 'my secret', T0 + MIN);
    await sync(room);
    forgetCustomerHistory(h.db.sqlite, `mxid:${cust}`);
    say(h.hs.model, room, cust, 'said after the erasure', T0 + 2 * MIN);
    refuseOnce('M_INVALID_PARAM', 'Unknown token');
    const c = await sync(room);
    assert.deepEqual([c.gaps_filled, c.messages], [1, 1]);
    assert.deepEqual(
      (h.db.sqlite.prepare('select body from history_events where room_id = ?').all(room.id) as Row[]).map(
        (r) => r.body,
      ),
      ['said after the erasure'],
    );
  });

  it('expired tokens of an interrupted walk: the first walk starts again from now; a gap fill records what it could not reach', async () => {
    const cust = addGhost(h.hs.model, '@g6:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    const msgs = Array.from({ length: 12 }, (_, i) => say(h.hs.model, room, cust, `m${i}`, T0 + (1 + i) * MIN));
    await sync(room, { page_size: 5 });
    // As if the first walk had been interrupted before the 4 oldest messages, and its token expired since.
    const oldest = msgs.slice(0, 4).map((m) => m.event_id);
    h.db.sqlite
      .prepare(`delete from history_events where event_id in (${oldest.map(() => '?').join(', ')})`)
      .run(...oldest);
    h.db.sqlite
      .prepare(
        "update sync_cursors set backfill_done = 0, backward_token = 't17-expired', backfill_count = 8 where room_id = ?",
      )
      .run(room.id);
    const c = await sync(room, { page_size: 5 });
    assert.deepEqual([c.rooms_failed, c.gaps_detected, c.messages], [0, 1, 4]);
    assert.equal(count(room), 12);
    assert.deepEqual([cursor(room).backfill_done, cursor(room).backward_token], [1, null]);

    h.db.sqlite
      .prepare("update sync_cursors set gap_token = 't3-expired', gap_stop_event_id = ? where room_id = ?")
      .run(msgs[11]!.event_id, room.id);
    const notices: string[] = [];
    const g = await sync(room, {}, notices);
    assert.deepEqual([g.rooms_failed, g.gaps_unfilled], [0, 1]);
    assert.match(notices[0]!, /token refused/);
    assert.deepEqual([cursor(room).gap_token, cursor(room).gap_stop_event_id], [null, null]);
  });
});
