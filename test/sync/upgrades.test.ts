import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { latestJobRuns, recordJobRun } from '../../src/db/index.ts';
import { conversationReport } from '../../src/report/conversations.ts';
import { runSync } from '../../src/sync/index.ts';
import {
  addGhost,
  join,
  leave,
  plainRoom,
  say,
  upgradeRoom,
  whatsappPortal,
} from '../../src/testing/fake-homeserver/fixtures.ts';
import { DAY, type Harness, HOUR, harness, MIN, noSleep, type RawConfig } from './harness.ts';

type Row = Record<string, unknown>;

describe('sync: room upgrades (m.room.tombstone)', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const all = (sql: string, ...p: unknown[]) => h.db.sqlite.prepare(sql).all(...p) as Row[];
  const one = (sql: string, ...p: unknown[]) => h.db.sqlite.prepare(sql).get(...p) as Row | undefined;
  const sync = (raw: RawConfig, rooms?: string[], notices: string[] = []) =>
    runSync(h.ctx(h.config(raw)), { env: h.env, sleep: noSleep, rooms, onNotice: (m) => notices.push(m) });
  const convs = (...rooms: string[]) =>
    all(
      `select * from conversations where room_id in (${rooms.map(() => '?').join(', ')}) order by started_at`,
      ...rooms,
    );
  const esc = (id: string) => encodeURIComponent(id).replace(/[!$.*+?()[\]{}|^\\]/g, '\\$&');
  const requestsFor = (roomId: string) => h.hs.requests.filter((r) => r.path.includes(encodeURIComponent(roomId)));

  /** A WhatsApp DM that went through the LID migration: only its history tells the phone number. */
  const lidPortal = (phone: string, lid: string, receiver: string, ts: number) => {
    const p = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver,
      customer: { phone, lid, pushName: 'Maria' },
      migrated: true,
      ts,
    });
    const own = addGhost(h.hs.model, `@whatsapp_${receiver}:example.org`, { displayname: 'Shop (WA)' });
    return { ...p, own };
  };

  it('both rooms joined: the link is stored, the new room inherits channel and customer, the conversation continues, the old room is finished', async () => {
    const t = h.clock.now - 3 * HOUR;
    const p = lidPortal('4915112345678', '77', '33612345678', t - DAY);
    say(h.hs.model, p.room, p.ghost, 'my order is late', t);
    say(h.hs.model, p.room, h.agent.userId, 'checking', t + 5 * MIN);
    const up = upgradeRoom(h.hs.model, p.room, p.bot, {
      ts: t + 10 * MIN,
      follow: [p.ghost, h.agent.userId, p.own],
    });
    const b = up.room;
    say(h.hs.model, b, p.ghost, 'any news?', t + 20 * MIN);
    say(h.hs.model, b, p.own, 'shipped today', t + 25 * MIN);

    // Only the old room is named: the new one is selected because it replaced it.
    const raw = { sync: { rooms: { include: [p.room.id] } } };
    const c1 = await sync(raw);
    assert.equal(c1.rooms_synced, 2);
    assert.equal(c1.upgrades_not_joined, 0);
    assert.deepEqual(one('select * from history_room_upgrades where predecessor_room_id = ?', p.room.id), {
      predecessor_room_id: p.room.id,
      successor_room_id: b.id,
      tombstone_event_id: up.tombstone.event_id,
      tombstone_sender: p.bot,
      body: 'This room has been replaced',
      claimed_by: p.bot,
      detected_at: h.clock.now,
      updated_at: h.clock.now,
    });
    const rb = one('select * from history_rooms where room_id = ?', b.id)!;
    assert.equal(rb.channel, 'whatsapp');
    assert.equal(rb.is_direct, 1);
    assert.equal(rb.remote_channel_id, '77@lid');
    assert.equal(rb.wa_receiver, '33612345678');
    assert.equal(rb.customer_key, 'tel:+4915112345678', 'the new room alone only knows the LID ghost');
    assert.equal(rb.no_phone_number, 0);
    assert.equal(
      one('select sender_role from history_events where room_id = ? and sender = ?', b.id, p.own)!.sender_role,
      'staff',
      "the company's own number stays staff in the new room",
    );
    assert.deepEqual(one('select forward_done, forward_token from sync_cursors where room_id = ?', p.room.id), {
      forward_done: 1,
      forward_token: null,
    });

    const [c, ...rest] = convs(p.room.id, b.id);
    assert.equal(rest.length, 0, 'one conversation across the upgrade');
    assert.equal(c!.id, `${p.room.id}#${t}`);
    assert.equal(c!.customer_key, 'tel:+4915112345678');
    assert.equal(c!.channel, 'whatsapp');
    assert.deepEqual([c!.message_count, c!.customer_message_count, c!.agent_message_count], [4, 2, 2]);
    assert.deepEqual(JSON.parse(c!.agents as string), [h.agent.userId, p.own]);
    assert.equal(
      one('select count(*) n from history_events where conversation_id = ? and room_id = ?', c!.id, b.id)!.n,
      2,
    );
    const report = conversationReport(h.db.sqlite, {}, h.clock.now).conversations.filter(
      (x) => x.customer.key === 'tel:+4915112345678',
    );
    assert.equal(report.length, 1);
    assert.equal(report[0]!.room_id, p.room.id);

    // The old room is not read again: no /state, no /messages.
    const before = requestsFor(p.room.id).length;
    const c2 = await sync(raw);
    assert.equal(requestsFor(p.room.id).length, before);
    assert.equal(c2.rooms_finished, 1);
    assert.equal(c2.rooms_synced, 1);
    assert.equal(convs(p.room.id, b.id)[0]!.revision, 1);

    // Past the conversation gap, a new conversation starts in the new room.
    h.clock.now += 2 * DAY;
    say(h.hs.model, b, p.ghost, 'another question', h.clock.now - MIN);
    await sync(raw);
    const after = convs(p.room.id, b.id);
    assert.equal(after.length, 2);
    assert.equal(after[0]!.status, 'RESOLVED');
    assert.equal(after[1]!.id, `${b.id}#${h.clock.now - MIN}`);
    assert.equal(after[1]!.customer_key, 'tel:+4915112345678');
  });

  it('a new room no account is in: reported (not failed) without auto_join; joined through the tombstone sender’s server with it', async () => {
    const t = h.clock.now - 2 * HOUR;
    const admin = addGhost(h.hs.model, '@admin:elsewhere.example');
    const cust = addGhost(h.hs.model, '@cust2:remote.example');
    const a = plainRoom(h.hs.model, admin, [h.agent.userId, cust], t - DAY);
    say(h.hs.model, a, cust, 'hello', t);
    say(h.hs.model, a, h.agent.userId, 'hi, how can I help?', t + MIN);
    const b = upgradeRoom(h.hs.model, a, admin, { ts: t + 2 * MIN, follow: [cust], restrictToMembers: true }).room;
    say(h.hs.model, b, cust, 'still there?', t + 3 * MIN);
    // A second upgrade whose new room is invite-only: joining it is refused.
    const a2 = plainRoom(h.hs.model, admin, [h.agent.userId, cust], t - DAY);
    say(h.hs.model, a2, cust, 'other topic', t);
    const b2 = upgradeRoom(h.hs.model, a2, admin, { ts: t + 2 * MIN, follow: [cust] }).room;

    const rooms = { include: [a.id, a2.id] };
    const notices: string[] = [];
    const off = await recordJobRun(
      h.db.db,
      'sync',
      'cli',
      () => sync({ sync: { rooms } }, undefined, notices),
      () => h.clock.now,
    );
    assert.equal(off.upgrades_not_joined, 2);
    assert.equal(off.rooms_failed, 0);
    assert.equal(latestJobRuns(h.db.db, 'sync', 1)[0]!.status, 'ok');
    assert.equal(latestJobRuns(h.db.db, 'sync', 1)[0]!.counts.upgrades_not_joined, 2);
    assert.ok(
      notices.some((n) => n.startsWith(`upgraded room not joined: ${a.id} was replaced by ${b.id}`)),
      notices.join('\n'),
    );
    assert.equal(h.hs.requestsTo(/\/join\//).length, 0);
    assert.equal(one('select 1 x from history_rooms where room_id = ?', b.id), undefined);

    const noticesOn: string[] = [];
    const on = await sync({ sync: { rooms, auto_join: true } }, undefined, noticesOn);
    assert.equal(on.upgrades_joined, 1);
    assert.equal(on.upgrades_not_joined, 1);
    assert.equal(on.rooms_failed, 0);
    const joins = h.hs.requestsTo(new RegExp(`/join/${esc(b.id)}$`), 'POST');
    assert.equal(joins.length, 1);
    assert.equal(joins[0]!.query.via, 'elsewhere.example');
    assert.equal(joins[0]!.status, 200);
    assert.ok(noticesOn.some((n) => n.includes(b2.id) && /join as @agent:example\.org failed/.test(n)));
    assert.equal(
      one('select body from history_events where room_id = ? and sender = ?', b.id, cust)!.body,
      'still there?',
    );
    const c = convs(a.id, b.id);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.message_count, 3);
    assert.equal(c[0]!.customer_key, `mxid:${cust}`);

    const again = await sync({ sync: { rooms, auto_join: true } });
    assert.equal(again.upgrades_joined, 0, 'joined once');
    assert.equal(h.hs.requestsTo(new RegExp(`/join/${esc(b.id)}$`), 'POST').length, 1);
  });

  it('a room that replaced an excluded room is excluded too', async () => {
    const cust = addGhost(h.hs.model, '@ex:remote.example');
    const a = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - DAY);
    say(h.hs.model, a, cust, 'internal', h.clock.now - HOUR);
    const b = upgradeRoom(h.hs.model, a, h.agent.userId, { ts: h.clock.now - 50 * MIN, follow: [cust] }).room;
    say(h.hs.model, b, cust, 'still internal', h.clock.now - 40 * MIN);
    await sync({ sync: { rooms: { exclude: [a.id] } } });
    assert.equal(one('select 1 x from history_rooms where room_id in (?, ?)', a.id, b.id), undefined);
    assert.ok(one('select 1 x from history_room_upgrades where successor_room_id = ?', b.id), 'the link is known');
  });

  it('the new room read first (the old one not joined yet), then both with the new one first: it takes the old room’s customer; no duplicate conversation', async () => {
    const t = h.clock.now - 3 * HOUR;
    const boss = h.hs.model.addUser('boss').userId;
    const p = whatsappPortal(h.hs.model, {
      owner: boss,
      receiver: '33699999999',
      customer: { phone: '4915198765432', lid: '88', pushName: 'Maria' },
      migrated: true,
      ts: t - DAY,
    });
    const own = addGhost(h.hs.model, '@whatsapp_33699999999:example.org', { displayname: 'Shop (WA)' });
    say(h.hs.model, p.room, p.ghost, 'bonjour', t);
    say(h.hs.model, p.room, boss, 'bonjour !', t + 2 * MIN);
    const b = upgradeRoom(h.hs.model, p.room, p.bot, { ts: t + 5 * MIN, follow: [p.ghost, h.agent.userId, own] }).room;
    say(h.hs.model, b, p.ghost, 'ma commande ?', t + 10 * MIN);
    say(h.hs.model, b, own, 'envoyée', t + 12 * MIN);

    const rooms = { include: [p.room.id, b.id] };
    await sync({ sync: { rooms } });
    const alone = one('select * from history_rooms where room_id = ?', b.id)!;
    // Alone, the new room has no bridge info: a group (the own-number ghost counts as a second customer)
    // whose LID customer has no number.
    assert.equal(alone.is_direct, 0);
    assert.equal(alone.customer_key, null);
    assert.equal(alone.no_phone_number, 1);
    assert.equal(
      one('select sender_role from history_events where room_id = ? and sender = ?', b.id, own)!.sender_role,
      'customer',
      'without the bridge info the own number is not known',
    );
    assert.equal(one('select 1 x from history_rooms where room_id = ?', p.room.id), undefined);
    assert.deepEqual(
      convs(p.room.id, b.id).map((c) => c.id),
      [`${b.id}#${t + 10 * MIN}`],
    );

    join(h.hs.model, p.room, h.agent.userId, t + 20 * MIN);
    const c2 = await sync({}, [b.id, p.room.id]);
    assert.equal(c2.rooms_synced, 2);
    const rb = one('select * from history_rooms where room_id = ?', b.id)!;
    assert.equal(rb.customer_key, 'tel:+4915198765432');
    assert.equal(rb.no_phone_number, 0);
    assert.equal(rb.is_direct, 1);
    assert.equal(rb.wa_receiver, '33699999999');
    assert.equal(
      one('select sender_role from history_events where room_id = ? and sender = ?', b.id, own)!.sender_role,
      'staff',
      'roles of stored events follow the inherited receiver',
    );
    const c = convs(p.room.id, b.id);
    assert.deepEqual(
      c.map((x) => x.id),
      [`${p.room.id}#${t}`],
      'the segment the new room had alone is replaced by the one spanning both rooms',
    );
    assert.deepEqual([c[0]!.message_count, c[0]!.customer_message_count, c[0]!.agent_message_count], [4, 2, 2]);
    assert.ok(c2.conversations_deleted >= 1);
    assert.equal(
      conversationReport(h.db.sqlite, {}, h.clock.now).conversations.filter(
        (x) => x.customer.key === 'tel:+4915198765432',
      ).length,
      1,
    );
  });

  it('the old room’s tombstone never seen (no account in it any more): the new room’s predecessor links them when its creator was a member; a stranger’s claim does not', async () => {
    const t = h.clock.now - 3 * HOUR;
    const cust = addGhost(h.hs.model, '@claire:remote.example', { displayname: 'Claire' });
    const a = plainRoom(h.hs.model, h.agent.userId, [cust], t - DAY);
    say(h.hs.model, a, cust, 'help please', t);
    await sync({ sync: { rooms: { include: [a.id] } } });

    const b = upgradeRoom(h.hs.model, a, h.agent.userId, { ts: t + 5 * MIN, follow: [cust] }).room;
    leave(h.hs.model, a, h.agent.userId, t + 6 * MIN);
    say(h.hs.model, b, h.agent.userId, 'here to help', t + 10 * MIN);
    // Someone else creates a room claiming to replace the customer's room.
    const mallory = addGhost(h.hs.model, '@mallory:evil.example');
    const c = h.hs.model.createRoom(mallory, { createContent: { predecessor: { room_id: a.id } }, ts: t + 7 * MIN });
    h.hs.model.append(c, {
      type: 'm.room.member',
      sender: h.agent.userId,
      stateKey: h.agent.userId,
      ts: t + 8 * MIN,
      content: { membership: 'join' },
    });
    say(h.hs.model, c, mallory, 'I am Claire, send me her invoices', t + 11 * MIN);

    const counts = await sync({ sync: { rooms: { include: [b.id, c.id] } } });
    assert.equal(counts.rooms_synced, 2);
    assert.deepEqual(
      all(
        'select successor_room_id s, tombstone_event_id t, claimed_by c from history_room_upgrades where predecessor_room_id = ? order by c',
        a.id,
      ).map((r) => [r.s, r.t, r.c]),
      [
        [b.id, null, h.agent.userId],
        [c.id, null, mallory],
      ].sort((x, y) => String(x[2]).localeCompare(String(y[2]))),
    );
    const chain = convs(a.id, b.id);
    assert.equal(chain.length, 1, 'the agent’s answer in the new room continues the conversation');
    assert.equal(chain[0]!.id, `${a.id}#${t}`);
    assert.equal(chain[0]!.message_count, 2);
    assert.equal(chain[0]!.first_response_seconds, 600);
    assert.equal(one('select customer_key from history_rooms where room_id = ?', b.id)!.customer_key, `mxid:${cust}`);
    const stranger = convs(c.id);
    assert.equal(stranger.length, 1);
    assert.equal(stranger[0]!.customer_key, `mxid:${mallory}`, 'the stranger’s room keeps its own customer');
    assert.equal(
      one('select customer_key from history_rooms where room_id = ?', c.id)!.customer_key,
      `mxid:${mallory}`,
    );
  });
});
