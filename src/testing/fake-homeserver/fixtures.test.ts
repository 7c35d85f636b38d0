import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addGhost, generateConversation, plainRoom, whatsappPortal } from './fixtures.ts';
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

  const get = async (path: string) => {
    const r = await fetch(`${hs.url}/_matrix/client/v3${path}`, { headers: { authorization: `Bearer ${token}` } });
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
      `/sync?filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 0 } } }))}&timeout=0`,
    );
    const next = body.next_batch as string;
    assert.match(next, /^s\d+$/);
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
});
