import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSync } from '../../src/sync/index.ts';
import {
  addGhost,
  join,
  plainRoom,
  say,
  wazoPortal,
  whatsappPortal,
} from '../../src/testing/fake-homeserver/fixtures.ts';
import { type Harness, harness, MIN, noSleep, type RawConfig, T0 } from './harness.ts';

type Row = Record<string, unknown>;

describe('sync: channel, customer identity and staff rules', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const sync = async (roomIds: string[], raw: RawConfig = {}) => {
    const config = h.config({ ...raw, sync: { rooms: { include: roomIds }, ...(raw.sync ?? {}) } });
    return runSync(h.ctx(config), { env: h.env, sleep: noSleep, rooms: roomIds });
  };
  const room = (id: string) => h.db.sqlite.prepare('select * from history_rooms where room_id = ?').get(id) as Row;
  const customer = (key: string) =>
    h.db.sqlite.prepare('select * from customers where key = ?').get(key) as Row | undefined;
  const roles = (id: string) =>
    Object.fromEntries(
      (h.db.sqlite.prepare('select user_id, role from history_participants where room_id = ?').all(id) as Row[]).map(
        (r) => [r.user_id, r.role],
      ),
    );

  it('WhatsApp DM keyed by a phone-number ghost; the own-number ghost is staff, the bridge bot is neither', async () => {
    const p = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '33612345678',
      customer: { phone: '4915112345678', pushName: 'Maria' },
      ts: T0,
    });
    const own = addGhost(h.hs.model, '@whatsapp_33612345678:example.org', { displayname: 'Shop (WA)' });
    join(h.hs.model, p.room, own, T0 + 10);
    say(h.hs.model, p.room, p.ghost, 'hello', T0 + MIN);
    say(h.hs.model, p.room, own, 'sent from the phone', T0 + 2 * MIN);
    await sync([p.room.id]);
    const r = room(p.room.id);
    assert.equal(r.channel, 'whatsapp');
    assert.equal(r.is_direct, 1);
    assert.equal(r.customer_key, 'tel:+4915112345678');
    assert.equal(r.remote_channel_id, '4915112345678@s.whatsapp.net');
    assert.equal(r.no_phone_number, 0);
    assert.equal(r.name, 'Maria');
    assert.deepEqual(customer('tel:+4915112345678'), {
      key: 'tel:+4915112345678',
      channel: 'whatsapp',
      phone: '+4915112345678',
      mxid: p.ghost,
      name: 'Maria',
      email: null,
      wazo_user_uuid: null,
      wa_lid: null,
      updated_at: h.clock.now,
    });
    const rs = roles(p.room.id);
    assert.equal(rs[own], 'staff');
    assert.equal(rs[p.bot], 'bot');
    assert.equal(rs[h.agent.userId], 'staff');
    assert.equal(rs[p.ghost], 'customer');
    const conv = h.db.sqlite
      .prepare('select agent_message_count a, customer_message_count c, agents from conversations where room_id = ?')
      .get(p.room.id) as Row;
    assert.deepEqual(conv, { a: 1, c: 1, agents: JSON.stringify([own]) });
  });

  it('after the LID migration the phone comes from the membership history; LID digits are never a phone', async () => {
    const p = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '33612345678',
      customer: { phone: '4917600000001', lid: '123456789012345', pushName: 'Jonas' },
      migrated: true,
      ts: T0,
    });
    say(h.hs.model, p.room, p.ghost, 'hi after migration', T0 + MIN);
    await sync([p.room.id]);
    const r = room(p.room.id);
    assert.equal(r.remote_channel_id, '123456789012345@lid');
    assert.equal(r.customer_key, 'tel:+4917600000001');
    const c = customer('tel:+4917600000001')!;
    assert.equal(c.wa_lid, '123456789012345');
    assert.equal(c.mxid, '@whatsapp_lid-123456789012345:example.org');
    assert.equal(customer('tel:+123456789012345'), undefined);
  });

  it('a LID ghost: profile identifiers first, then a display name with a number, else keyed by MXID and flagged', async () => {
    const a = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '33612345678',
      customer: { lid: '999000111', pushName: 'Ana', identifiers: ['tel:+34612345678'] },
      ts: T0,
    });
    const b = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '33612345678',
      customer: { lid: '999000222' },
      ts: T0,
    });
    // No push name: the bridge shows "+<phone> (WA)"; here the operator's template shows the phone in the name.
    h.hs.model.users.get(b.ghost)!.profile.displayname = 'Luis +44 7911 123456';
    h.hs.model.append(b.room, {
      type: 'm.room.member',
      sender: b.ghost,
      stateKey: b.ghost,
      ts: T0 + 50,
      content: { membership: 'join', displayname: 'Luis +44 7911 123456' },
    });
    const c = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '33612345678',
      customer: { lid: '999000333', pushName: 'Nameless' },
      ts: T0,
    });
    await sync([a.room.id, b.room.id, c.room.id]);
    assert.equal(room(a.room.id).customer_key, 'tel:+34612345678');
    assert.equal(room(b.room.id).customer_key, 'tel:+447911123456');
    assert.equal(room(c.room.id).customer_key, `mxid:${c.ghost}`);
    assert.equal(room(c.room.id).no_phone_number, 1);
    assert.equal(customer(`mxid:${c.ghost}`)!.wa_lid, '999000333');
  });

  it('honours a custom ghost pattern (e.g. the `_whatsapp_` prefix) and [whatsapp] own_numbers', async () => {
    const p = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '',
      customer: { phone: '5511987654321' },
      ghostPrefix: '_whatsapp_',
      ts: T0,
    });
    const own = addGhost(h.hs.model, '@_whatsapp_33700000000:example.org');
    join(h.hs.model, p.room, own, T0 + 20);
    // A room without m.bridge, recognised by its ghost member alone.
    const bare = plainRoom(
      h.hs.model,
      h.agent.userId,
      [addGhost(h.hs.model, '@_whatsapp_5511911112222:example.org')],
      T0,
    );
    await sync([p.room.id, bare.id], {
      whatsapp: { ghost_pattern: '^@_whatsapp_', own_numbers: ['+33 7 00 00 00 00'] },
    });
    assert.equal(room(p.room.id).customer_key, 'tel:+5511987654321');
    assert.equal(roles(p.room.id)[own], 'staff');
    assert.equal(room(bare.id).channel, 'whatsapp');
    assert.equal(room(bare.id).customer_key, 'tel:+5511911112222');
  });

  it('Wazo portal: the customer is the Wazo user behind our ghost', async () => {
    const bot = '@crmbridge:example.org';
    const uuid = '6f1c2f3e-1111-4222-8333-444455556666';
    const r = wazoPortal(h.hs.model, {
      bot,
      ghost: `@wazo_${uuid}:example.org`,
      ghostName: 'Paul (Wazo)',
      staff: h.agent.userId,
      wazoRoomUuid: 'room-uuid-1',
      ts: T0,
    });
    await sync([r.id]);
    assert.equal(room(r.id).channel, 'wazo');
    assert.equal(room(r.id).customer_key, `wazo:${uuid}`);
    assert.equal(customer(`wazo:${uuid}`)!.wazo_user_uuid, uuid);
    assert.equal(roles(r.id)[bot], 'bot');
  });

  it('our bridge tables: a portal without m.bridge is Wazo, a linked Wazo user is staff, ghost profiles feed the customer', async () => {
    const bot = '@crmbridge:example.org';
    addGhost(h.hs.model, bot);
    const customerGhost = addGhost(h.hs.model, '@wazo_cust-1:example.org', { displayname: 'Cust (Wazo)' });
    const colleagueGhost = addGhost(h.hs.model, '@wazo_agent-2:example.org', { displayname: 'Agent Two' });
    const r = plainRoom(h.hs.model, bot, [customerGhost, colleagueGhost, h.agent.userId], T0);
    const db = h.db.sqlite;
    db.prepare(
      "insert into portals (remote_room_id, network, matrix_room_id, created_at) values ('room-9', 'wazo', ?, 0)",
    ).run(r.id);
    db.prepare(
      "insert into ghosts (remote_user_id, network, user_id, display_name, email, phone, updated_at) values ('cust-1', 'wazo', ?, 'Claire Client', 'claire@example.com', '+33 6 12 34 56 78', 0)",
    ).run(customerGhost);
    db.prepare(
      "insert into ghosts (remote_user_id, network, user_id, display_name, updated_at) values ('agent-2', 'wazo', ?, 'Agent Two', 0)",
    ).run(colleagueGhost);
    db.prepare(
      "insert into puppets (matrix_user_id, network, remote_user_id, remote_name, credentials, created_at) values ('@colleague2:example.org', 'wazo', 'agent-2', 'agent2', 'x', 0)",
    ).run();
    await sync([r.id]);
    assert.equal(room(r.id).channel, 'wazo');
    assert.equal(room(r.id).customer_key, 'wazo:cust-1');
    const rs = roles(r.id);
    assert.equal(rs[colleagueGhost], 'staff');
    assert.equal(rs[customerGhost], 'customer');
    const c = customer('wazo:cust-1')!;
    assert.deepEqual(
      [c.name, c.email, c.phone, c.wazo_user_uuid],
      ['Claire Client', 'claire@example.com', '+33612345678', 'cust-1'],
    );
  });

  it('plain Matrix room: staff by list, regex, sync account and own homeserver; remote users are customers', async () => {
    const listed = addGhost(h.hs.model, '@lead:partner.example');
    const byRegex = addGhost(h.hs.model, '@support-7:partner.example');
    const local = h.hs.model.addUser('colleague').userId;
    const remote = addGhost(h.hs.model, '@client:gmail.example', { displayname: 'A Client' });
    const r = plainRoom(h.hs.model, h.agent.userId, [listed, byRegex, local, remote], T0);
    await sync([r.id], { sync: { staff: ['@lead:partner.example', '/^@support-\\d+:/'] } });
    const rs = roles(r.id);
    assert.deepEqual(
      [rs[listed], rs[byRegex], rs[local], rs[h.agent.userId], rs[remote]],
      ['staff', 'staff', 'staff', 'staff', 'customer'],
    );
    assert.equal(room(r.id).channel, 'matrix');
    assert.equal(room(r.id).customer_key, `mxid:${remote}`);
    assert.equal(customer(`mxid:${remote}`)!.name, 'A Client');
  });

  it('[sync] rooms: channel filter and exclusions; explicit --room wins over the channel filter', async () => {
    const cust = addGhost(h.hs.model, '@x:remote.example');
    const m1 = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    const m2 = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    const wa = whatsappPortal(h.hs.model, {
      owner: h.agent.userId,
      receiver: '1',
      customer: { phone: '4915100000009' },
      ts: T0,
    });
    const config = h.config({ sync: { rooms: { channels: ['whatsapp'], exclude: [m2.id] } } });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.ok(c.rooms_skipped! >= 1);
    assert.equal(room(wa.room.id).channel, 'whatsapp');
    assert.equal(room(m1.id), undefined);
    assert.equal(room(m2.id), undefined);
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep, rooms: [m1.id] });
    assert.equal(room(m1.id).channel, 'matrix');
  });

  it('joins pending invites when auto_join is on', async () => {
    const other = h.hs.model.addUser('inviter').userId;
    const r = h.hs.model.createRoom(other);
    h.hs.model.append(r, {
      type: 'm.room.member',
      sender: other,
      stateKey: h.agent.userId,
      content: { membership: 'invite' },
    });
    say(h.hs.model, r, other, 'welcome', T0);
    const config = h.config({ sync: { auto_join: true, rooms: { include: [r.id] } } });
    const c = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(c.invites_joined, 1);
    assert.equal(h.hs.model.membership(r, h.agent.userId), 'join');
    assert.equal(
      (h.db.sqlite.prepare('select count(*) n from history_events where room_id = ?').get(r.id) as Row).n,
      1,
    );
  });
});
