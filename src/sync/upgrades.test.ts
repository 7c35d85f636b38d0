import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../db/index.ts';
import { inheritIdentity, type RoomIdentity } from './identity.ts';
import { type ClientEvent, inheritRoomInfo, type RoomInfo } from './room-info.ts';
import { readRoomLinks, serverOf, UpgradeLinks } from './upgrades.ts';

const ev = (type: string, content: Record<string, unknown>, sender = '@admin:hs.example'): ClientEvent => ({
  event_id: `$${type}${JSON.stringify(content).length}`,
  type,
  sender,
  origin_server_ts: 1,
  state_key: '',
  content,
});

describe('room upgrade links', () => {
  it('reads a valid tombstone and predecessor, and ignores malformed or self-referencing ones with a reason', () => {
    const ok = readRoomLinks('!old:hs.example', [
      ev('m.room.tombstone', { body: 'moved', replacement_room: '!new:hs.example' }),
      ev('m.room.create', { room_version: '11', predecessor: { room_id: '!older:hs.example' } }),
    ]);
    assert.deepEqual(ok.tombstone, {
      eventId: ok.tombstone!.eventId,
      sender: '@admin:hs.example',
      replacementRoom: '!new:hs.example',
      body: 'moved',
    });
    assert.deepEqual(ok.predecessor, { roomId: '!older:hs.example', creator: '@admin:hs.example' });
    assert.deepEqual(ok.problems, []);
    // Room version 12 IDs have no server part.
    assert.equal(
      readRoomLinks('!a', [ev('m.room.tombstone', { body: 'x', replacement_room: '!Abc_-123' })]).tombstone
        ?.replacementRoom,
      '!Abc_-123',
    );

    const bad = readRoomLinks('!old:hs.example', [
      ev('m.room.tombstone', { body: 'moved', replacement_room: 'not a room' }),
      ev('m.room.create', { predecessor: { room_id: 42 } }),
    ]);
    assert.equal(bad.tombstone, null);
    assert.equal(bad.predecessor, null);
    assert.equal(bad.problems.length, 2);
    assert.match(bad.problems[0]!, /replacement_room is not a room ID/);
    const self = readRoomLinks('!old:hs.example', [ev('m.room.tombstone', { replacement_room: '!old:hs.example' })]);
    assert.equal(self.tombstone, null);
    assert.match(self.problems[0]!, /names the room itself/);
    const redacted = readRoomLinks('!old:hs.example', [ev('m.room.tombstone', {})]);
    assert.deepEqual([redacted.tombstone, redacted.problems], [null, []], 'a redacted tombstone is no upgrade');
  });

  it('takes the server of a user ID only when it is a valid server name', () => {
    assert.equal(serverOf('@a:matrix.example.org'), 'matrix.example.org');
    assert.equal(serverOf('@a:[::1]:8448'), '[::1]:8448');
    assert.equal(serverOf('@a:1.2.3.4:80'), '1.2.3.4:80');
    assert.equal(serverOf('@a:evil.example/path'), null);
    assert.equal(serverOf('not-a-user'), null);
  });

  it('trusts a tombstone; a predecessor claim only from a member of the old room and not against its tombstone; cycles end', () => {
    const db = openDatabase('sqlite::memory:');
    try {
      const members = new Set(['!a\n@up:hs']);
      const links = new UpgradeLinks(
        db.sqlite,
        (room, user) => members.has(`${room}\n${user}`),
        () => 5,
      );
      const tomb = (to: string, id = '$t') => ({
        tombstone: { eventId: id, sender: '@up:hs', replacementRoom: to, body: null },
        predecessor: null,
        problems: [],
      });
      const claim = (from: string, creator: string) => ({
        tombstone: null,
        predecessor: { roomId: from, creator },
        problems: [],
      });
      links.record('!b', claim('!a', '@up:hs'));
      assert.equal(links.predecessorOf('!b'), '!a', 'the creator was a member of the old room');
      links.record('!x', claim('!a', '@stranger:evil'));
      assert.equal(links.predecessorOf('!x'), undefined, 'a stranger cannot attach a room to a customer’s');
      links.record('!a', tomb('!c'));
      assert.equal(links.predecessorOf('!b'), undefined, 'the old room’s tombstone names another room');
      assert.equal(links.predecessorOf('!c'), '!a');
      assert.deepEqual(links.chain('!c'), ['!a', '!c']);
      assert.equal(links.successorOf('!a')?.successor, '!c');
      // A tombstone that changes drops the link it no longer vouches for (unless a claim keeps it).
      links.record('!a', tomb('!d', '$t2'));
      assert.equal(links.predecessorOf('!c'), undefined);
      assert.deepEqual(
        (db.sqlite.prepare('select successor_room_id s from history_room_upgrades order by s').all() as { s: string }[])
          .map((r) => r.s)
          .sort(),
        ['!b', '!d', '!x'],
      );
      // A cycle of tombstones (two rooms naming each other) does not loop.
      links.record('!p', tomb('!q', '$p'));
      links.record('!q', tomb('!p', '$q'));
      assert.equal(links.chain('!p').length, 2);
      assert.equal(links.depth('!q'), 1);
      const reloaded = new UpgradeLinks(
        db.sqlite,
        () => false,
        () => 6,
      );
      assert.equal(reloaded.successorOf('!a')?.successor, '!d', 'links persist');
    } finally {
      db.close();
    }
  });
});

describe('what a new room inherits from the room it replaced', () => {
  const info = (o: Partial<RoomInfo>): RoomInfo => ({
    channel: 'matrix',
    name: null,
    isDirect: false,
    encrypted: false,
    remoteChannelId: null,
    waReceiver: null,
    members: new Map(),
    bridged: false,
    inheritedFrom: null,
    ...o,
  });
  const wa = {
    channel: 'whatsapp',
    name: 'Maria',
    isDirect: true,
    remoteChannelId: '1@lid',
    waReceiver: '33',
  } as const;

  it('channel and bridge facts when the new room names no bridge; never over its own bridge', () => {
    const plain = inheritRoomInfo(info({}), wa, '!old');
    assert.deepEqual(
      [plain.channel, plain.isDirect, plain.remoteChannelId, plain.waReceiver, plain.name, plain.inheritedFrom],
      ['whatsapp', true, '1@lid', '33', 'Maria', '!old'],
    );
    const ghosts = inheritRoomInfo(info({ channel: 'whatsapp', isDirect: false }), wa, '!old');
    assert.deepEqual([ghosts.isDirect, ghosts.waReceiver], [true, '33']);
    const own = inheritRoomInfo(
      info({ channel: 'whatsapp', bridged: true, remoteChannelId: '2@lid', waReceiver: '44', name: 'Other' }),
      wa,
      '!old',
    );
    assert.deepEqual(
      [own.remoteChannelId, own.waReceiver, own.name, own.inheritedFrom],
      ['2@lid', '44', 'Other', null],
    );
    const wazo = inheritRoomInfo(info({ channel: 'wazo' }), wa, '!old');
    assert.equal(wazo.channel, 'wazo', 'another channel of its own is kept');
  });

  const identity = (o: Partial<RoomIdentity>): RoomIdentity => ({
    customers: [],
    participants: [],
    customerKey: null,
    noPhoneNumber: false,
    ...o,
  });
  const pred = {
    customerKey: 'tel:+4915112345678',
    noPhoneNumber: false,
    customerOf: new Map([['@wa_lid-7:hs', 'tel:+4915112345678']]),
  };

  it('the customer where the new room falls back to an MXID, or has none yet; not what it determines itself', () => {
    const lid = '@wa_lid-7:hs';
    const fallback = identity({
      customers: [
        { key: `mxid:${lid}`, channel: 'whatsapp', phone: null, mxid: lid, name: 'M', wazoUserUuid: null, waLid: '7' },
      ],
      participants: [{ userId: lid, role: 'customer', customerKey: `mxid:${lid}`, displayName: 'M' }],
      customerKey: `mxid:${lid}`,
      noPhoneNumber: true,
    });
    const got = inheritIdentity(fallback, pred);
    assert.deepEqual([got.customerKey, got.noPhoneNumber, got.customers.length], ['tel:+4915112345678', false, 0]);
    assert.equal(got.participants[0]!.customerKey, 'tel:+4915112345678');

    const empty = inheritIdentity(identity({}), pred);
    assert.deepEqual([empty.customerKey, empty.noPhoneNumber], ['tel:+4915112345678', false]);

    const matrix = identity({
      customers: [
        {
          key: 'mxid:@bob:r',
          channel: 'matrix',
          phone: null,
          mxid: '@bob:r',
          name: null,
          wazoUserUuid: null,
          waLid: null,
        },
      ],
      participants: [{ userId: '@bob:r', role: 'customer', customerKey: 'mxid:@bob:r', displayName: null }],
      customerKey: 'mxid:@bob:r',
    });
    assert.equal(
      inheritIdentity(matrix, { ...pred, customerOf: new Map([['@bob:r', 'tel:+33600000000']]) }),
      matrix,
      'a Matrix user keyed by MXID is not a fallback',
    );
  });
});
