import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RemoteEvent } from './connector.ts';
import { remoteMessageId, remoteRoomId, remoteUserId } from './ids.ts';
import { parseRemoteEvent, serializeRemoteEvent } from './to-matrix.ts';

describe('outbox payload of remote events', () => {
  const base = {
    kind: 'message' as const,
    portal: { id: remoteRoomId('room-1') },
    sender: { id: remoteUserId('user-1') },
    remoteId: remoteMessageId('msg-1'),
    at: new Date('2026-11-22T04:00:00.123Z'),
  };

  it('round-trips a text message (dates come back as dates)', () => {
    const ev: RemoteEvent = { ...base, body: { kind: 'text', text: 'hello "$b64" **there**' } };
    const back = parseRemoteEvent(serializeRemoteEvent(ev));
    assert.deepEqual(back, ev);
    assert.ok(back.kind === 'message' && back.at instanceof Date);
  });

  it('round-trips media bytes exactly', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const ev: RemoteEvent = {
      ...base,
      body: { kind: 'text', text: '', media: { kind: 'image', name: 'a.png', mimeType: 'image/png', bytes } },
    };
    const payload = serializeRemoteEvent(ev);
    assert.ok(payload.includes('"$b64"'));
    const back = parseRemoteEvent(payload);
    assert.ok(back.kind === 'message' && back.body.media?.bytes instanceof Uint8Array);
    assert.deepEqual([...back.body.media.bytes], [...bytes]);
  });
});
