/**
 * Remote → Matrix: the handler of `remote` outbox rows. Dedupe on the message map first, then find or
 * create the portal, choose who speaks (the linked user with their own token, else through the
 * double-puppeting registration, else the sender's ghost), convert, send with a txnId derived from the remote
 * message id (a retry after a crash collapses on the homeserver), and write the mapping.
 */
import { describeError, RemoteApiError } from '../errors.ts';
import { type IntentFactory, txnIdFor } from '../matrix/index.ts';
import type { NeutralMessage, RemoteEvent } from './connector.ts';
import { type CoreContext, DOUBLE_PUPPET_KEY, DOUBLE_PUPPET_SOURCE } from './context.ts';
import type { MatrixUserId } from './ids.ts';
import { isRejectedToken, withoutToken } from './matrix-tokens.ts';
import type { PortalManager } from './portals.ts';

/** Outbox payload form of a RemoteEvent (dates as ISO strings, bytes as base64). */
export function serializeRemoteEvent(ev: RemoteEvent): string {
  // A message without media bytes (nearly all of them) needs no replacer, which makes stringify several times
  // slower; other kinds (rare) may carry bytes elsewhere (avatars) and always take the careful path.
  if (ev.kind === 'message' && !ev.body.media?.bytes) return JSON.stringify(ev);
  // The holder's own value, not `v`: JSON.stringify hands the replacer a Buffer already turned into
  // `{ type: 'Buffer', data }` by its toJSON.
  return JSON.stringify(ev, function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    return raw instanceof Uint8Array ? { $b64: Buffer.from(raw).toString('base64') } : v;
  });
}

export function parseRemoteEvent(payload: string): RemoteEvent {
  const ev = (
    payload.includes('"$b64"')
      ? JSON.parse(payload, (_k, v) =>
          v && typeof v === 'object' && typeof (v as { $b64?: unknown }).$b64 === 'string'
            ? new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'))
            : v,
        )
      : JSON.parse(payload)
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
  // Double puppeting: a remote user linked to a Matrix account speaks as that account, not as a ghost, with
  // the token the user gave (`login-matrix`) or else through the double-puppeting registration.
  const linked = c.store.puppetByRemote(ev.sender.id)?.matrixUserId as MatrixUserId | undefined;
  const body: NeutralMessage = { ...ev.body };
  const send = (voice: Voice) => speak(c, portals, ev, roomId, body, voice);
  const eventId =
    (linked && (await withOwnToken(c, linked, ev.remoteId, send))) ||
    (await send(
      linked && c.doublePuppet
        ? { method: 'appservice', userId: linked, via: c.doublePuppet }
        : { method: 'ghost', userId: (await portals.ensureGhost(ev.sender.id)).userId, via: c.intents },
    ));
  c.store.mapInsert(
    { eventId, remoteId: ev.remoteId, roomId, remoteRoomId: ev.portal.id, direction: 'to-matrix' },
    c.now(),
  );
}

/** Who a remote message is sent as: the linked user (own token or registration) or the sender's ghost. */
interface Voice {
  method: 'token' | 'appservice' | 'ghost';
  userId: string;
  /** The client acting as `userId`. */
  via: IntentFactory;
}

/** Joins, uploads the media if any, and sends as `voice`; returns the event id. */
async function speak(
  c: CoreContext,
  portals: PortalManager,
  ev: Extract<RemoteEvent, { kind: 'message' }>,
  roomId: string,
  body: NeutralMessage,
  voice: Voice,
): Promise<string> {
  const intent = voice.via.intent(voice.userId);
  await portals.ensureJoined(roomId, voice.userId, false, voice.via);
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
  if (voice.method !== 'ghost') content[DOUBLE_PUPPET_KEY] = DOUBLE_PUPPET_SOURCE;
  const txnId = txnIdFor(`${c.connector!.network}:${ev.remoteId}`);
  // `ts` (the original time) is for appservices only: a user's own token cannot set it.
  const ts = ev.keepTimestamp && voice.method !== 'token' ? ev.at.getTime() : undefined;
  try {
    return await intent.sendEvent(roomId, 'm.room.message', content, txnId, ts);
  } catch (err) {
    // A 403 "not in room" means our membership cache is stale (someone kicked the sender): rejoin once.
    if (!(err instanceof RemoteApiError && err.remoteStatus === 403)) throw err;
    portals.forgetJoined(roomId, voice.userId);
    await portals.ensureJoined(roomId, voice.userId, false, voice.via);
    return intent.sendEvent(roomId, 'm.room.message', content, txnId, ts);
  }
}

/**
 * Sends with the token the user gave (`login-matrix`), if any. When the homeserver refuses it (or it no longer
 * decrypts), forgets it, tells the user, and returns undefined: the caller sends with the next method, so the
 * message is not lost.
 */
async function withOwnToken(
  c: CoreContext,
  user: MatrixUserId,
  remoteId: string,
  send: (voice: Voice) => Promise<string>,
): Promise<string | undefined> {
  try {
    const via = c.matrixTokens.intents(user);
    return via ? await send({ method: 'token', userId: user, via }) : undefined;
  } catch (err) {
    if (!isRejectedToken(err)) throw err;
    await tokenRejected(c, user, err, remoteId);
    return undefined;
  }
}

/** Forgets a token the homeserver refused (or that no longer decrypts) and tells its owner what happens now. */
async function tokenRejected(c: CoreContext, user: MatrixUserId, err: unknown, remoteId: string): Promise<void> {
  c.matrixTokens.forget(user);
  c.log.warn({ user, err: describeError(err) }, 'double-puppeting token refused; forgotten, falling back');
  const net = c.connector?.displayName ?? 'remote';
  const why =
    err instanceof RemoteApiError ? 'expired or was logged out' : 'can no longer be read (the bridge’s key changed)';
  const room = c.store.managementRoom(user);
  if (!room) return;
  await c.notice(
    room,
    `Your Matrix access token for double puppeting ${why}, so I forgot it. Your ${net} messages ${withoutToken(c)} until you send "login-matrix <access token>" again.`,
    `token-rejected:${user}:${remoteId}`,
  );
}
