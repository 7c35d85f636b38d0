/**
 * Remote → Matrix: the handler of `remote` outbox rows. Dedupe on the message map first, then find or
 * create the portal and the ghost, convert, send as the ghost with a txnId derived from the remote message
 * id (a retry after a crash collapses on the homeserver), and write the mapping.
 */
import { RemoteApiError } from '../errors.ts';
import { type Intent, txnIdFor } from '../matrix/index.ts';
import type { NeutralMessage, RemoteEvent } from './connector.ts';
import { type CoreContext, DOUBLE_PUPPET_KEY, DOUBLE_PUPPET_SOURCE } from './context.ts';
import type { PortalManager } from './portals.ts';

/** Outbox payload form of a RemoteEvent (dates as ISO strings, bytes as base64). */
export function serializeRemoteEvent(ev: RemoteEvent): string {
  return JSON.stringify(ev, (_k, v) => (v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v));
}

export function parseRemoteEvent(payload: string): RemoteEvent {
  const ev = JSON.parse(payload, (_k, v) =>
    v && typeof v === 'object' && typeof (v as { $b64?: unknown }).$b64 === 'string'
      ? new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'))
      : v,
  ) as RemoteEvent;
  if (ev.kind === 'message') ev.at = new Date(ev.at);
  return ev;
}

/** Pure: the Matrix `m.room.message` content of a neutral message (media already uploaded when `mxc` set). */
export function neutralToMatrix(body: NeutralMessage, replyToEventId?: string): Record<string, unknown> {
  const msgtype = body.kind === 'notice' ? 'm.notice' : body.kind === 'emote' ? 'm.emote' : 'm.text';
  let content: Record<string, unknown>;
  const m = body.media;
  if (m?.mxc) {
    const type =
      m.kind === 'image' ? 'm.image' : m.kind === 'video' ? 'm.video' : m.kind === 'audio' ? 'm.audio' : 'm.file';
    content = {
      msgtype: type,
      body: m.name,
      url: m.mxc,
      info: { ...(m.mimeType ? { mimetype: m.mimeType } : {}), ...(m.size ? { size: m.size } : {}) },
    };
  } else {
    content = { msgtype, body: body.text };
    if (body.html && body.html !== body.text) {
      content.format = 'org.matrix.custom.html';
      content.formatted_body = body.html;
    }
  }
  if (replyToEventId) content['m.relates_to'] = { 'm.in_reply_to': { event_id: replyToEventId } };
  return content;
}

export async function handleRemoteEvent(c: CoreContext, portals: PortalManager, ev: RemoteEvent): Promise<void> {
  if (!c.connector) return;
  if (ev.kind === 'ghost-info') {
    await portals.ensureGhost(ev.user, ev.info);
    return;
  }
  if (ev.kind === 'room-info') {
    await portals.updateRoomInfo(ev.portal, ev.info);
    return;
  }
  if (c.store.eventForRemote(ev.remoteId)) return; // already bridged (or our own echo)
  const portal = await portals.ensurePortal(ev.portal);
  if (portal.broken || !portal.matrixRoomId) return;
  const roomId = portal.matrixRoomId;
  // Double puppeting: a remote user linked to a Matrix account speaks as that account, not as a ghost.
  const linked = c.doublePuppet ? c.store.puppetByRemote(ev.sender.id) : undefined;
  let senderId: string;
  let intent: Intent;
  if (linked && c.doublePuppet) {
    senderId = linked.matrixUserId;
    intent = c.doublePuppet.intent(senderId);
    await portals.ensureJoined(roomId, senderId, false, c.doublePuppet);
  } else {
    senderId = (await portals.ensureGhost(ev.sender.id)).userId;
    await portals.ensureJoined(roomId, senderId);
    intent = c.intents.intent(senderId);
  }
  const body: NeutralMessage = { ...ev.body };
  if (body.media?.bytes && !body.media.mxc) {
    body.media = {
      ...body.media,
      mxc: await intent.upload(body.media.bytes, body.media.mimeType ?? 'application/octet-stream', body.media.name),
    };
  } else if (body.media && !body.media.mxc && body.media.url) {
    // No upload wanted: the file stays on the remote side and Matrix gets a link.
    body.text = body.text ? `${body.text}\n${body.media.url}` : `${body.media.name}: ${body.media.url}`;
    body.media = undefined;
  }
  const reply = body.replyTo ? c.store.eventForRemote(body.replyTo)?.eventId : undefined;
  const content = neutralToMatrix(body, reply);
  if (linked) content[DOUBLE_PUPPET_KEY] = DOUBLE_PUPPET_SOURCE;
  const txnId = txnIdFor(`${c.connector.network}:${ev.remoteId}`);
  let eventId: string;
  try {
    eventId = await intent.sendEvent(
      roomId,
      'm.room.message',
      content,
      txnId,
      ev.keepTimestamp ? ev.at.getTime() : undefined,
    );
  } catch (err) {
    // A 403 "not in room" means our membership cache is stale (someone kicked the ghost): rejoin once.
    if (err instanceof RemoteApiError && err.remoteStatus === 403) {
      portals.forgetJoined(roomId, senderId);
      await portals.ensureJoined(roomId, senderId, false, linked ? c.doublePuppet : undefined);
      eventId = await intent.sendEvent(
        roomId,
        'm.room.message',
        content,
        txnId,
        ev.keepTimestamp ? ev.at.getTime() : undefined,
      );
    } else throw err;
  }
  c.store.mapInsert(
    { eventId, remoteId: ev.remoteId, roomId, remoteRoomId: ev.portal.id, direction: 'to-matrix' },
    c.now(),
  );
}
