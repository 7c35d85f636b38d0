import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { latestJobRuns, recordJobRun } from '../../src/db/index.ts';
import { runSync, SyncIncompleteError } from '../../src/sync/index.ts';
import {
  addGhost,
  edit,
  encrypted,
  generateConversation,
  join,
  plainRoom,
  react,
  redact,
  say,
} from '../../src/testing/fake-homeserver/fixtures.ts';
import { DAY, type Harness, harness, MIN, noSleep, T0 } from './harness.ts';

type Row = Record<string, unknown>;
const all = (h: Harness, sql: string, ...p: unknown[]) => h.db.sqlite.prepare(sql).all(...p) as Row[];
const one = (h: Harness, sql: string, ...p: unknown[]) => h.db.sqlite.prepare(sql).get(...p) as Row;

describe('sync: paging, resume and event kinds', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it('first sync stores the whole room, in origin_server_ts order, and a second sync reads only new events', async () => {
    const cust = addGhost(h.hs.model, '@bob:remote.example', { displayname: 'Bob' });
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    generateConversation(h.hs.model, room, {
      customer: cust,
      staff: h.agent.userId,
      count: 230,
      startTs: T0 + MIN,
      stepMs: MIN,
    });
    // Bridged backfill: an event arriving last with an older timestamp.
    const late = say(h.hs.model, room, cust, 'sent earlier, arrived late', T0 + 30 * 1000);
    const config = h.config();
    const c1 = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c1.rooms_synced, 1);
    assert.equal(c1.messages, 231);
    assert.equal(one(h, 'select count(*) n from history_events where room_id = ?', room.id).n, 231);
    const first = one(h, 'select event_id from history_events where room_id = ? order by ts limit 1', room.id);
    assert.equal(first.event_id, late.event_id);
    const roles = all(
      h,
      'select sender_role r, count(*) n from history_events where room_id = ? group by r order by r',
      room.id,
    );
    assert.deepEqual(
      roles.map((r) => [r.r, r.n]),
      [
        ['customer', 116],
        ['staff', 115],
      ],
    );

    const before = h.hs.requestsTo(/\/messages$/).length;
    const c2 = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c2.events_stored, 0);
    assert.equal(c2.duplicates, 0, 'nothing is read twice');
    assert.equal(h.hs.requestsTo(/\/messages$/).length - before, 1, 'one forward request finds nothing new');

    say(h.hs.model, room, cust, 'one more thing', T0 + 300 * MIN);
    const c3 = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c3.messages, 1);
    assert.equal(c3.duplicates, 0);
    const fwd = h.hs.requestsTo(/\/messages$/).at(-2)!;
    assert.equal(fwd.query.dir, 'f');
  });

  it('applies edits (newest wins, history kept), redactions (text removed) and reactions (counted), in either order', async () => {
    const cust = addGhost(h.hs.model, '@carol:remote.example', { displayname: 'Carol' });
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    const m1 = say(h.hs.model, room, cust, 'my card number is 1234', T0 + MIN);
    const m2 = say(h.hs.model, room, cust, 'helo', T0 + 2 * MIN);
    edit(h.hs.model, room, m2, 'hello', T0 + 3 * MIN);
    edit(h.hs.model, room, m2, 'hello there', T0 + 4 * MIN);
    edit(h.hs.model, room, m2, 'hijack', T0 + 5 * MIN, h.agent.userId); // not the sender: ignored
    const r1 = react(h.hs.model, room, h.agent.userId, m2, '👍', T0 + 6 * MIN);
    react(h.hs.model, room, cust, m2, '❤️', T0 + 6 * MIN);
    redact(h.hs.model, room, h.agent.userId, r1, T0 + 7 * MIN);
    redact(h.hs.model, room, cust, m1, T0 + 8 * MIN);
    const config = h.config({ sync: { rooms: { include: [room.id] }, page_size: 2 } });
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    const e1 = one(h, 'select body, redacted from history_events where event_id = ?', m1.event_id);
    assert.deepEqual(e1, { body: null, redacted: 1 });
    const e2 = one(
      h,
      'select body, edited_at, reaction_count, original_body from history_events where event_id = ?',
      m2.event_id,
    );
    assert.deepEqual(e2, { body: 'hello there', edited_at: T0 + 4 * MIN, reaction_count: 1, original_body: 'helo' });
    assert.equal(
      one(h, 'select count(*) n from history_edits where target_event_id = ?', m2.event_id).n,
      3,
      'edit history kept',
    );

    // Forward order: a later run sees a new edit and the redaction of the original.
    const m3 = say(h.hs.model, room, cust, 'call me at 555', T0 + 9 * MIN);
    const ed = edit(h.hs.model, room, m3, 'call me at 556', T0 + 10 * MIN);
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(one(h, 'select body from history_events where event_id = ?', m3.event_id).body, 'call me at 556');
    redact(h.hs.model, room, cust, ed, T0 + 11 * MIN);
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(
      one(h, 'select body from history_events where event_id = ?', m3.event_id).body,
      'call me at 555',
      'redacting the edit restores the original',
    );
    assert.equal(one(h, 'select body from history_edits where event_id = ?', ed.event_id).body, null);
    redact(h.hs.model, room, cust, m3, T0 + 12 * MIN);
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    const gone = all(
      h,
      'select body from history_events where event_id = ? union all select body from history_edits where target_event_id = ?',
      m3.event_id,
      m3.event_id,
    );
    assert.ok(
      gone.every((r) => r.body === null),
      'a customer deletion removes every copy of the text',
    );
  });

  it('counts and flags encrypted rooms without content, and skips unknown event types', async () => {
    const cust = addGhost(h.hs.model, '@dave:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0, { encrypted: true });
    for (let i = 0; i < 5; i++) encrypted(h.hs.model, room, i % 2 ? h.agent.userId : cust, T0 + i * MIN, i);
    h.hs.model.append(room, { type: 'com.example.custom', sender: cust, ts: T0 + 9 * MIN, content: { x: 1 } });
    const config = h.config({ sync: { rooms: { include: [room.id] } } });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c.encrypted, 5);
    assert.deepEqual(one(h, 'select encrypted, encrypted_event_count from history_rooms where room_id = ?', room.id), {
      encrypted: 1,
      encrypted_event_count: 5,
    });
    const conv = one(h, 'select encrypted, message_count from conversations where room_id = ?', room.id);
    assert.deepEqual(conv, { encrypted: 1, message_count: 5 });
  });

  it('waits on 429 as told, retries 5xx, and one failing room does not stop the others', async () => {
    const cust = addGhost(h.hs.model, '@erin:remote.example');
    const ok1 = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, ok1, cust, 'hi', T0 + MIN);
    const bad = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, bad, cust, 'hi', T0 + MIN);
    const ok2 = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, ok2, cust, 'hi', T0 + MIN);
    const esc = (id: string) => id.replace(/[!$.]/g, '\\$&');
    h.hs.rateLimit(new RegExp(`${esc(encodeURIComponent(ok1.id))}/messages`), 1500);
    h.hs.fail({ path: new RegExp(`${esc(encodeURIComponent(ok2.id))}/state`), status: 502, times: 2 });
    h.hs.fail({
      path: new RegExp(`${esc(encodeURIComponent(bad.id))}/messages`),
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const sleeps: number[] = [];
    const config = h.config({ sync: { rooms: { include: [ok1.id, bad.id, ok2.id] } } });
    const err = await recordJobRun(
      h.db.db,
      'sync',
      'cli',
      () => runSync(h.ctx(config), { env: h.env, sleep: async (ms) => void sleeps.push(ms) }),
      () => h.clock.now,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SyncIncompleteError);
    assert.equal(err.counts.rooms_synced, 2);
    assert.equal(err.counts.rooms_failed, 1);
    assert.ok(sleeps.includes(2000), `Retry-After honoured (sleeps: ${sleeps})`);
    assert.ok(sleeps.includes(250) && sleeps.includes(500), 'exponential backoff on 5xx');
    assert.match(String(one(h, 'select last_error from history_rooms where room_id = ?', bad.id).last_error), /500/);
    const run = latestJobRuns(h.db.db, 'sync', 1)[0]!;
    assert.equal(run.status, 'failed');
    assert.equal(run.counts.rooms_synced, 2);
    assert.match(run.error!, new RegExp(bad.id.replace(/[!$.]/g, '\\$&')));
    h.hs.failures.length = 0;
  });

  it('detects a refused forward token as a gap and fills it back to the last known event', async () => {
    const cust = addGhost(h.hs.model, '@fred:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, room, cust, 'a', T0 + MIN);
    const config = h.config({ sync: { rooms: { include: [room.id] }, page_size: 3 } });
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    for (let i = 0; i < 10; i++) say(h.hs.model, room, i % 2 ? h.agent.userId : cust, `m${i}`, T0 + (2 + i) * MIN);
    h.hs.fail({ path: /\/messages$/, status: 400, body: { errcode: 'M_INVALID_PARAM', error: 'Unknown token' } });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c.messages, 10);
    assert.equal(c.duplicates, 0);
    assert.equal(one(h, 'select count(*) n from history_events where room_id = ?', room.id).n, 11);
    assert.equal(one(h, 'select gap_token from sync_cursors where room_id = ?', room.id).gap_token, null);
  });

  it('bounds the first run by backfill_days and max_events_per_room', async () => {
    const cust = addGhost(h.hs.model, '@gina:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    generateConversation(h.hs.model, room, {
      customer: cust,
      staff: h.agent.userId,
      count: 40,
      startTs: h.clock.now - 20 * DAY,
      stepMs: DAY / 2,
    });
    const byDays = await runSync(
      h.ctx(h.config({ sync: { rooms: { include: [room.id] }, backfill_days: 5, page_size: 7 } })),
      { env: h.env, sleep: noSleep },
    );
    assert.equal(byDays.messages, 10, 'messages of the last 5 days only');
    const room2 = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    generateConversation(h.hs.model, room2, {
      customer: cust,
      staff: h.agent.userId,
      count: 40,
      startTs: T0,
      stepMs: MIN,
    });
    const byCount = await runSync(
      h.ctx(h.config({ sync: { rooms: { include: [room2.id] }, max_events_per_room: 15, page_size: 7 } })),
      { env: h.env, sleep: noSleep },
    );
    assert.equal(byCount.events_stored, 15);
  });

  it('clears message text past retention_days but keeps rows and metrics', async () => {
    const cust = addGhost(h.hs.model, '@hank:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    say(h.hs.model, room, cust, 'old secret', h.clock.now - 10 * DAY);
    join(h.hs.model, room, cust, h.clock.now - 9 * DAY);
    say(h.hs.model, room, cust, 'recent', h.clock.now - DAY);
    const c = await runSync(h.ctx(h.config({ sync: { rooms: { include: [room.id] }, retention_days: 7 } })), {
      env: h.env,
      sleep: noSleep,
    });
    assert.equal(c.messages, 2);
    const rows = all(h, 'select body from history_events where room_id = ? order by ts', room.id);
    assert.deepEqual(
      rows.map((r) => r.body),
      [null, 'recent'],
    );
    assert.equal(one(h, 'select sum(message_count) n from conversations where room_id = ?', room.id).n, 2);
  });
});
