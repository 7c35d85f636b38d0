import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addGhost, generateConversation, plainRoom, say, upgradeRoom, whatsappPortal } from './fixtures.ts';
import { FakeHomeserver, HomeserverModel } from './index.ts';

const T0 = Date.UTC(2026, 10, 1);

function digest(model: HomeserverModel, roomId: string): string {
  const h = createHash('sha256');
  for (const e of model.rooms.get(roomId)!.events)
    h.update(`${e.event_id}|${e.sender}|${e.origin_server_ts}|${JSON.stringify(e.content)}\n`);
  return h.digest('hex');
}

describe('fake homeserver fixtures and history endpoints', () => {
  let hs: FakeHomeserver;
  let token: string;
  let bigRoom: string;
  before(async () => {
    hs = await new FakeHomeserver({ serverName: 'example.org', clock: () => T0 + 200 * 86_400_000 }).start();
    const agent = hs.model.addUser('agent');
    token = agent.token;
    const cust = addGhost(hs.model, '@c:remote.example');
    const room = plainRoom(hs.model, agent.userId, [cust], T0);
    generateConversation(hs.model, room, {
      customer: cust,
      staff: agent.userId,
      count: 100_000,
      startTs: T0,
      stepMs: 60_000,
    });
    bigRoom = room.id;
  });
  after(() => hs.stop());

  const get = async (path: string, as = token) => {
    const r = await fetch(`${hs.url}/_matrix/client/v3${path}`, { headers: { authorization: `Bearer ${as}` } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown, as = token) => {
    const r = await fetch(`${hs.url}/_matrix/client/v3${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('generates the 100,000-event room deterministically', () => {
    const other = new HomeserverModel('example.org', () => T0 + 200 * 86_400_000);
    const agent = other.addUser('agent');
    const cust = addGhost(other, '@c:remote.example');
    const room = plainRoom(other, agent.userId, [cust], T0);
    generateConversation(other, room, {
      customer: cust,
      staff: agent.userId,
      count: 100_000,
      startTs: T0,
      stepMs: 60_000,
    });
    assert.equal(room.id, bigRoom);
    assert.equal(digest(other, room.id), digest(hs.model, bigRoom));
    assert.equal(hs.model.rooms.get(bigRoom)!.events.length, 100_000 + 4);
  });

  it('/messages pages the whole room backwards; `end` is absent only at the start of the room', async () => {
    let from: string | undefined;
    let n = 0;
    let pages = 0;
    const ids: string[] = [];
    for (;;) {
      const q = new URLSearchParams({ dir: 'b', limit: '1000', ...(from ? { from } : {}) });
      const { status, body } = await get(`/rooms/${encodeURIComponent(bigRoom)}/messages?${q}`);
      assert.equal(status, 200);
      const chunk = body.chunk as { event_id: string }[];
      for (const e of chunk) ids.push(e.event_id);
      n += chunk.length;
      pages++;
      if (body.end === undefined) {
        assert.equal(chunk.length, 0);
        break;
      }
      from = body.end as string;
    }
    assert.equal(n, 100_004);
    const expected = hs.model.rooms
      .get(bigRoom)!
      .events.map((e) => e.event_id)
      .reverse();
    assert.ok(
      ids.every((id, i) => id === expected[i]),
      'newest first, every event once',
    );
    assert.equal(pages, 102);
  });

  it('/sync gives a next_batch that /messages accepts, and lists invites', async () => {
    const { body } = await get(
      `/sync?filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1 } } }))}&timeout=0`,
    );
    const next = body.next_batch as string;
    assert.match(next, /^s\d+$/);
    const zero = await get(
      `/sync?filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 0 } } }))}&timeout=0`,
    );
    assert.equal(zero.status, 400, 'spec EventFilter: limit must be greater than 0');
    const fwd = await get(`/rooms/${encodeURIComponent(bigRoom)}/messages?dir=f&from=${next}&limit=10`);
    assert.deepEqual(fwd.body.chunk, []);
    const back = await get(`/rooms/${encodeURIComponent(bigRoom)}/messages?dir=b&from=${next}&limit=1`);
    assert.equal((back.body.chunk as unknown[]).length, 1);
    const other = hs.model.addUser('other');
    const r = hs.model.createRoom(other.userId);
    hs.model.append(r, {
      type: 'm.room.member',
      sender: other.userId,
      stateKey: '@agent:example.org',
      content: { membership: 'invite' },
    });
    const again = await get('/sync?timeout=0');
    assert.ok(r.id in (again.body.rooms as { invite: Record<string, unknown> }).invite);
  });

  it('a mautrix-whatsapp portal carries m.bridge and uk.half-shot.bridge, and the LID migration in its history', () => {
    const owner = hs.model.addUser('owner').userId;
    const p = whatsappPortal(hs.model, {
      owner,
      receiver: '33600000000',
      customer: { phone: '4915100000001', lid: '77', pushName: 'M' },
      migrated: true,
      ts: T0,
    });
    const state = [...p.room.state.values()];
    const bridges = state.filter((e) => e.type === 'm.bridge' || e.type === 'uk.half-shot.bridge');
    assert.equal(bridges.length, 2);
    assert.deepEqual(
      bridges.map((b) => (b.content.channel as { id: string }).id),
      ['77@lid', '77@lid'],
    );
    assert.equal(bridges[0]!.state_key, 'example.org/whatsapp');
    const left = p.room.events.find(
      (e) => e.type === 'm.room.member' && e.state_key === p.phoneGhost && e.content.membership === 'leave',
    );
    assert.equal(left?.content.reason, 'Migrating to LIDs');
    assert.equal(p.ghost, '@whatsapp_lid-77:example.org');
  });

  it('a room upgrade: predecessor in the new m.room.create, tombstone and restricted power levels in the old room', async () => {
    const admin = hs.model.addUser('upgrader');
    const cust = addGhost(hs.model, '@u1:remote.example');
    const old = plainRoom(hs.model, admin.userId, [cust], T0);
    hs.model.append(old, {
      type: 'm.room.name',
      sender: admin.userId,
      stateKey: '',
      ts: T0 + 5,
      content: { name: 'Help' },
    });
    say(hs.model, old, cust, 'hi', T0 + 10);
    hs.model.append(old, { type: 'm.bridge', sender: admin.userId, stateKey: 'x', ts: T0 + 11, content: { a: 1 } });
    const { room, tombstone } = upgradeRoom(hs.model, old, admin.userId, { ts: T0 + 20, follow: [cust] });
    const create = hs.model.stateContent(room, 'm.room.create')!;
    assert.deepEqual(create.predecessor, { room_id: old.id, event_id: old.events.at(-3)!.event_id });
    assert.equal(hs.model.stateContent(room, 'm.room.name')?.name, 'Help', 'transferable state is copied');
    assert.equal(hs.model.stateContent(room, 'm.bridge', 'x'), undefined, 'bridge state is not');
    assert.deepEqual(tombstone.content, { body: 'This room has been replaced', replacement_room: room.id });
    assert.equal(hs.model.stateContent(old, 'm.room.power_levels')?.events_default, 50);
    assert.equal(hs.model.membership(room, cust), 'join');
    const state = await get(`/rooms/${encodeURIComponent(old.id)}/state/m.room.tombstone/`, admin.token);
    assert.equal(state.status, 200);
    assert.equal(state.body.replacement_room, room.id);
  });

  it('/createRoom puts creation_content (a predecessor) into m.room.create', async () => {
    const r = await post('/createRoom', { creation_content: { predecessor: { room_id: '!old:example.org' } } });
    assert.equal(r.status, 200);
    const create = await get(`/rooms/${encodeURIComponent(r.body.room_id as string)}/state/m.room.create/`);
    assert.deepEqual(create.body.predecessor, { room_id: '!old:example.org' });
  });

  it('joining a room our server is not in needs a resident server in `via`; restricted rooms admit members of the allowed room', async () => {
    const remote = addGhost(hs.model, '@boss:elsewhere.example');
    const old = plainRoom(hs.model, remote, ['@agent:example.org'], T0);
    const { room } = upgradeRoom(hs.model, old, remote, { ts: T0 + 5, restrictToMembers: true });
    const path = `/join/${encodeURIComponent(room.id)}`;
    const none = await post(path, {});
    assert.equal(none.status, 404);
    assert.equal(none.body.errcode, 'M_NOT_FOUND');
    assert.equal((await post(`${path}?via=wrong.example`, {})).status, 404);
    const outsider = hs.model.addUser('outsider');
    const refused = await post(`${path}?via=elsewhere.example`, {}, outsider.token);
    assert.equal(refused.status, 403, 'not a member of the allowed room');
    const ok = await post(`${path}?via=elsewhere.example`, {});
    assert.equal(ok.status, 200);
    assert.equal(ok.body.room_id, room.id);
    assert.equal(hs.model.membership(room, '@agent:example.org'), 'join');
    const legacy = hs.model.addUser('legacy');
    const other = plainRoom(hs.model, remote, [legacy.userId], T0);
    const up = upgradeRoom(hs.model, other, remote, { ts: T0 + 9, restrictToMembers: true }).room;
    const byServerName = await post(
      `/join/${encodeURIComponent(up.id)}?server_name=elsewhere.example`,
      {},
      legacy.token,
    );
    assert.equal(byServerName.status, 200, 'the deprecated server_name works too');
  });

  it('a purged history is no longer served by /messages and /event', async () => {
    const cust = addGhost(hs.model, '@p:remote.example');
    const room = plainRoom(hs.model, '@agent:example.org', [cust], T0);
    const a = say(hs.model, room, cust, 'old', T0 + 1);
    const b = say(hs.model, room, cust, 'new', T0 + 2);
    hs.model.purgeHistory(room, b.event_id);
    const back = await get(`/rooms/${encodeURIComponent(room.id)}/messages?dir=b&limit=50`);
    assert.deepEqual(
      (back.body.chunk as { event_id: string }[]).map((e) => e.event_id),
      [b.event_id],
    );
    assert.equal(back.body.end, 'p' + String(room.events.length - 1));
    const last = await get(
      `/rooms/${encodeURIComponent(room.id)}/messages?dir=b&limit=50&from=${back.body.end as string}`,
    );
    assert.equal(last.body.end, undefined, 'the purge point is the start of the history now');
    assert.equal(
      (await get(`/rooms/${encodeURIComponent(room.id)}/event/${encodeURIComponent(a.event_id)}`)).status,
      404,
    );
    assert.equal(hs.model.membership(room, cust), 'join', 'state is kept');
  });
});
