import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../testing/fake-wazo/manual-clock.ts';
import { SeenSet } from './dedupe.ts';
import { EchoGuard, UNCONFIRMED_ECHO_MS } from './echo.ts';
import { createdAtKey, ReorderBuffer } from './reorder.ts';

type Item = { room: string; order: number; id: string };

describe('SeenSet', () => {
  it('accepts an id once and forgets the oldest beyond its bound', () => {
    const s = new SeenSet(2);
    assert.equal(s.add('a'), true);
    assert.equal(s.add('a'), false);
    s.add('b');
    s.add('c');
    assert.equal(s.has('a'), false);
    assert.equal(s.has('c'), true);
  });
});

describe('ReorderBuffer', () => {
  it('window 0 passes straight through', () => {
    const clock = new ManualClock();
    const out: string[] = [];
    const r = new ReorderBuffer<Item>(0, clock, (i) => out.push(i.id));
    r.push({ room: 'r', order: 2, id: 'b' });
    r.push({ room: 'r', order: 1, id: 'a' });
    assert.deepEqual(out, ['b', 'a']);
  });
  it('orders within the window per room by created_at', () => {
    const clock = new ManualClock();
    const out: [string, number][] = [];
    const r = new ReorderBuffer<Item>(300, clock, (i, held) => out.push([i.id, held]));
    r.push({ room: 'r', order: 3, id: 'c' });
    clock.advance(100);
    r.push({ room: 'r', order: 1, id: 'a' });
    r.push({ room: 'other', order: 9, id: 'x' });
    clock.advance(50);
    r.push({ room: 'r', order: 2, id: 'b' });
    assert.deepEqual(out, []);
    clock.advance(150);
    // c's deadline passed; a and b sort before it, so the whole prefix goes out in order.
    assert.deepEqual(
      out.map((o) => o[0]),
      ['a', 'b', 'c'],
    );
    assert.equal(out[2][1], 300, 'held time is reported so latency can exclude it');
    clock.advance(100);
    assert.deepEqual(
      out.map((o) => o[0]),
      ['a', 'b', 'c', 'x'],
    );
  });
  it('a straggler older than what was released goes out on arrival', () => {
    const clock = new ManualClock();
    const out: string[] = [];
    const r = new ReorderBuffer<Item>(300, clock, (i) => out.push(i.id));
    r.push({ room: 'r', order: 5, id: 'e' });
    clock.advance(300);
    r.push({ room: 'r', order: 4, id: 'd' });
    assert.deepEqual(out, ['e', 'd']);
    assert.equal(r.size, 0);
  });
  it('createdAtKey keeps microseconds', () => {
    assert.ok(createdAtKey('2026-08-01T14:03:12.345679+00:00') > createdAtKey('2026-08-01T14:03:12.345678+00:00'));
  });
});

describe('EchoGuard', () => {
  it('holds a matching event until the POST answers, then drops it when the uuid is ours', async () => {
    const g = new EchoGuard();
    const send = g.begin('room', 'me', 'hello');
    let decided: boolean | undefined;
    const p = g.isEcho({ uuid: 'u1', room: 'room', sender: 'me', content: 'hello' }).then((v) => {
      decided = v;
    });
    await Promise.resolve();
    assert.equal(decided, undefined, 'still waiting for the POST');
    send.settle('u1');
    await p;
    assert.equal(decided, true);
  });
  it('releases a look-alike message with another uuid', async () => {
    const g = new EchoGuard();
    const send = g.begin('room', 'me', 'hello');
    const p = g.isEcho({ uuid: 'other', room: 'room', sender: 'me', content: 'hello' });
    send.settle('u1');
    assert.equal(await p, false);
    assert.equal(
      await g.isEcho({ uuid: 'u1', room: 'room', sender: 'me', content: 'hello' }),
      true,
      'late echo still dropped',
    );
  });
  it('an unconfirmed send (relay timeout) takes the first matching copy as its echo, held or late, once', async () => {
    let now = 1_000;
    const g = new EchoGuard(undefined, () => now);
    const held = g.begin('room', 'relay', 'hello');
    const p = g.isEcho({ uuid: 'u1', room: 'room', sender: 'relay', content: 'hello' });
    held.settle(undefined, { unconfirmed: true });
    assert.equal(await p, true, 'the copy that arrived during the POST');
    assert.equal(g.needsWait({ room: 'room', sender: 'relay', content: 'hello' }), false, 'consumed');
    assert.equal(await g.isEcho({ uuid: 'u1', room: 'room', sender: 'relay', content: 'hello' }), true, 'other copies');
    g.begin('room', 'relay', 'again').settle(undefined, { unconfirmed: true });
    assert.equal(await g.isEcho({ uuid: 'u2', room: 'room', sender: 'relay', content: 'again' }), true, 'late copy');
    assert.equal(await g.isEcho({ uuid: 'u3', room: 'room', sender: 'relay', content: 'again' }), false, 'only one');
    g.begin('room', 'relay', 'old').settle(undefined, { unconfirmed: true });
    now += UNCONFIRMED_ECHO_MS + 1;
    assert.equal(await g.isEcho({ uuid: 'u4', room: 'room', sender: 'relay', content: 'old' }), false, 'expired');
    g.begin('room', 'me', 'failed').settle(undefined);
    assert.equal(
      g.needsWait({ room: 'room', sender: 'me', content: 'failed' }),
      false,
      'a plain failure expects nothing',
    );
  });
  it('does not wait for unrelated messages', async () => {
    const g = new EchoGuard();
    g.begin('room', 'me', 'hello');
    assert.equal(g.needsWait({ room: 'room', sender: 'bob', content: 'hello' }), false);
    assert.equal(await g.isEcho({ uuid: 'x', room: 'room', sender: 'bob', content: 'hello' }), false);
  });
});
