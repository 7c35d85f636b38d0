/**
 * How the sync reads what a real homeserver and mautrix-whatsapp send, where our fake's habits could hide a
 * mismatch: pagination end conditions (shared/reference/matrix.md §4.3), event kinds (§4.6, §5.3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSync } from '../../src/sync/index.ts';
import type { FakeRoom } from '../../src/testing/fake-homeserver/model.ts';
import {
  addGhost,
  edit,
  join,
  plainRoom,
  react,
  say,
  whatsappPortal,
} from '../../src/testing/fake-homeserver/fixtures.ts';
import { DAY, type Harness, harness, MIN, noSleep } from './harness.ts';

type Row = Record<string, unknown>;
const one = (h: Harness, sql: string, ...p: unknown[]) => h.db.sqlite.prepare(sql).get(...p) as Row;

/** `n` events the sync's `/messages` filter leaves out: the homeserver answers pages of them with an empty chunk. */
function hiddenStretch(h: Harness, room: FakeRoom, sender: string, ts: number, n: number) {
  for (let i = 0; i < n; i++)
    h.hs.model.append(room, { type: 'm.room.topic', sender, stateKey: '', ts: ts + i, content: { topic: `t${i}` } });
}

describe('sync: reading as the spec says', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it('an empty chunk with an `end` is not the end of a forward walk (only an absent `end` is)', async () => {
    const cust = addGhost(h.hs.model, '@ivy:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - 2 * DAY);
    say(h.hs.model, room, cust, 'first', h.clock.now - DAY);
    const config = h.config({ sync: { rooms: { include: [room.id] }, page_size: 5 } });
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    hiddenStretch(h, room, h.agent.userId, h.clock.now - DAY + MIN, 12);
    say(h.hs.model, room, cust, 'after the topic changes', h.clock.now - DAY + 20 * MIN);
    const c2 = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c2.messages, 1, 'the message behind the empty pages is read');
    const c3 = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c3.events_stored + c3.duplicates, 0, 'and the next run starts after it');
    assert.equal(one(h, 'select count(*) n from history_events where room_id = ?', room.id).n, 2);
  });

  it('an empty chunk with an `end` does not stop the first backward walk bounded by backfill_days', async () => {
    const cust = addGhost(h.hs.model, '@jack:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - 3 * DAY);
    say(h.hs.model, room, cust, 'older, within the bound', h.clock.now - 2 * DAY);
    hiddenStretch(h, room, h.agent.userId, h.clock.now - 2 * DAY + MIN, 12);
    say(h.hs.model, room, cust, 'newest', h.clock.now - DAY);
    const config = h.config({ sync: { rooms: { include: [room.id] }, page_size: 5, backfill_days: 10 } });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c.messages, 2);
    assert.equal(one(h, 'select backfill_done from sync_cursors where room_id = ?', room.id).backfill_done, 1);
  });

  it('ignores an edit without m.new_content (spec: invalid replacement), keeping the text it points at', async () => {
    const cust = addGhost(h.hs.model, '@kim:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - 2 * DAY);
    const m = say(h.hs.model, room, cust, 'where is my parcel', h.clock.now - DAY);
    const config = h.config({ sync: { rooms: { include: [room.id] } } });
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    // Read forward, after the message it points at.
    h.hs.model.append(room, {
      type: 'm.room.message',
      sender: cust,
      ts: h.clock.now - DAY + MIN,
      content: {
        msgtype: 'm.text',
        body: '* where is my parcel?',
        'm.relates_to': { rel_type: 'm.replace', event_id: m.event_id },
      },
    });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c.messages + c.edits, 0, 'neither an edit nor a message');
    assert.deepEqual(one(h, 'select body, edited_at from history_events where event_id = ?', m.event_id), {
      body: 'where is my parcel',
      edited_at: null,
    });
    // A valid edit after it still applies.
    edit(h.hs.model, room, m, 'where is my parcel??', h.clock.now - DAY + 2 * MIN);
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(one(h, 'select body from history_events where event_id = ?', m.event_id).body, 'where is my parcel??');
  });

  it('reads WhatsApp stickers (m.sticker events, as mautrix-whatsapp sends them) as customer messages', async () => {
    const portal = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '4930123456',
      customer: { phone: '4915112345678', pushName: 'Maria' },
      ts: h.clock.now - 3 * DAY,
    });
    const sticker = h.hs.model.append(portal.room, {
      type: 'm.sticker',
      sender: portal.ghost,
      ts: h.clock.now - 2 * DAY,
      content: {
        body: '👍',
        url: 'mxc://example.org/sticker1',
        info: { mimetype: 'image/webp', size: 12000, w: 190, h: 190 },
      },
    });
    say(h.hs.model, portal.room, h.agent.userId, 'glad it helped', h.clock.now - 2 * DAY + MIN);
    react(h.hs.model, portal.room, h.agent.userId, sticker, '❤️', h.clock.now - 2 * DAY + 2 * MIN);
    const config = h.config({ sync: { rooms: { include: [portal.room.id] } } });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c.messages, 2);
    assert.deepEqual(
      one(h, 'select type, sender_role, body, reaction_count from history_events where event_id = ?', sticker.event_id),
      { type: 'm.sticker', sender_role: 'customer', body: '👍', reaction_count: 1 },
    );
    assert.deepEqual(
      one(
        h,
        'select message_count, customer_message_count, agent_message_count, first_response_seconds from conversations where room_id = ?',
        portal.room.id,
      ),
      { message_count: 2, customer_message_count: 1, agent_message_count: 1, first_response_seconds: 60 },
    );
  });

  it("takes the login's own LID ghost in a LID direct chat for staff, not for the customer", async () => {
    const portal = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '4930555000',
      customer: { phone: '4915199990000', lid: '123456789012345', pushName: 'Maria' },
      migrated: true,
      ts: h.clock.now - 3 * DAY,
    });
    // Written on the company's phone, no double puppeting: mautrix-whatsapp sends it as the login's own LID ghost.
    const own = addGhost(h.hs.model, '@whatsapp_lid-987654321098765:example.org', { displayname: 'ACME (WA)' });
    say(h.hs.model, portal.room, portal.ghost, 'is my order shipped?', h.clock.now - 2 * DAY);
    join(h.hs.model, portal.room, own, h.clock.now - 2 * DAY + MIN);
    const reply = say(h.hs.model, portal.room, own, 'yes, this morning', h.clock.now - 2 * DAY + 2 * MIN);
    const config = h.config({ sync: { rooms: { include: [portal.room.id] } } });
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(
      one(h, 'select sender_role from history_events where event_id = ?', reply.event_id).sender_role,
      'staff',
    );
    assert.deepEqual(
      one(
        h,
        'select customer_key, mxid from history_rooms r join customers c on c.key = r.customer_key where room_id = ?',
        portal.room.id,
      ),
      { customer_key: 'tel:+4915199990000', mxid: portal.ghost },
    );
    assert.deepEqual(
      one(
        h,
        'select customer_message_count, agent_message_count, first_response_seconds from conversations where room_id = ?',
        portal.room.id,
      ),
      { customer_message_count: 1, agent_message_count: 1, first_response_seconds: 120 },
    );
  });
});
