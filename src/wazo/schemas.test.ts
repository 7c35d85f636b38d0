import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChatEvent } from './schemas.ts';

// Shapes from shared/reference/wazo.md §3/§4/§7: the bus envelope (websocketd), our webhook template body, and
// webhookd's default body (the bare message).
const message = {
  uuid: '5E1D0000-0000-4000-8000-000000000001',
  content: 'Hello **team**',
  alias: null,
  user_uuid: '5e1d0000-0000-4000-8000-000000000002',
  tenant_uuid: 't',
  wazo_uuid: 'w',
  created_at: '2026-08-01T14:03:12.345678+00:00',
  room: { uuid: '5e1d0000-0000-4000-8000-000000000003' },
  delivery: { type: 'internal', backend: null, recipients: [] },
};

describe('parseChatEvent', () => {
  it('websocketd envelope keeps the recipient', () => {
    const r = parseChatEvent({
      name: 'chatd_user_room_message_created',
      'user_uuid:abc': true,
      required_acl: 'x',
      data: message,
    });
    assert.ok(r.ok && r.event.recipient === 'abc' && r.event.name === 'chatd_user_room_message_created');
  });
  it('our webhook template body', () => {
    const r = parseChatEvent({
      event: 'chatd_user_room_created',
      wazo: 'w',
      data: { uuid: message.room.uuid, name: null, users: [{ uuid: message.user_uuid }] },
    });
    assert.ok(r.ok && r.event.name === 'chatd_user_room_created');
  });
  it("webhookd's default body: the bare message", () => {
    const r = parseChatEvent(message);
    assert.ok(r.ok && r.event.name === 'chatd_user_room_message_created' && r.event.recipient === undefined);
  });
  it('unknown events and invalid data are told apart', () => {
    assert.deepEqual(parseChatEvent({ name: 'chatd_presence_updated', data: {} }).ok, false);
    const unknown = parseChatEvent({ name: 'chatd_presence_updated', data: {} });
    assert.ok(!unknown.ok && unknown.reason === 'unknown-event');
    const invalid = parseChatEvent({
      name: 'chatd_user_room_message_created',
      data: { ...message, created_at: 'yesterday' },
    });
    assert.ok(!invalid.ok && invalid.reason === 'invalid');
    const notObject = parseChatEvent([1]);
    assert.ok(!notObject.ok && notObject.reason === 'invalid');
  });
});
