/**
 * Matrix → remote: the handler of `matrix` outbox rows (events pushed by the homeserver). Our own ghosts'
 * and bot's events are dropped (echo suppression); invites to the bot open management rooms; messages in
 * management rooms are commands; messages in portals go to the sender's puppet or the relay.
 */
import { describeError, RemoteApiError } from '../errors.ts';
import { txnIdFor } from '../matrix/index.ts';
import type { BridgeBot } from './bot.ts';
import {
  isDmCreatingPuppet,
  isEditingPuppet,
  isReactingPuppet,
  isRedactingPuppet,
  type NeutralMessage,
  type OutgoingMessage,
  PortalGoneError,
  type PuppetClient,
  PuppetLoggedOutError,
  type SendResult,
} from './connector.ts';
import type { CoreContext } from './context.ts';
import type {
  MatrixEventId,
  MatrixRoomId,
  MatrixUserId,
  PortalKey,
  RemoteMessageId,
  RemoteRoomId,
  RemoteUserId,
} from './ids.ts';
import { atLeast } from './permissions.ts';
import type { PortalManager } from './portals.ts';

/** The parts of a ClientEvent we rely on (validated when the transaction was accepted). */
export interface MatrixEvent {
  type: string;
  room_id: string;
  event_id: string;
  sender: string;
  origin_server_ts?: number;
  state_key?: string;
  content: Record<string, unknown>;
  redacts?: string;
}

/** Validates one pushed event; undefined when it cannot be understood (logged and skipped by the caller). */
export function parseMatrixEvent(raw: unknown): MatrixEvent | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const e = raw as Record<string, unknown>;
  if (
    typeof e.type !== 'string' ||
    typeof e.room_id !== 'string' ||
    typeof e.event_id !== 'string' ||
    typeof e.sender !== 'string'
  )
    return undefined;
  if (e.content !== undefined && (typeof e.content !== 'object' || e.content === null || Array.isArray(e.content)))
    return undefined;
  if (e.state_key !== undefined && typeof e.state_key !== 'string') return undefined;
  return {
    type: e.type,
    room_id: e.room_id,
    event_id: e.event_id,
    sender: e.sender,
    origin_server_ts: typeof e.origin_server_ts === 'number' ? e.origin_server_ts : undefined,
    state_key: e.state_key as string | undefined,
    content: (e.content ?? {}) as Record<string, unknown>,
    redacts:
      typeof e.redacts === 'string'
        ? e.redacts
        : typeof (e.content as Record<string, unknown> | undefined)?.redacts === 'string'
          ? ((e.content as Record<string, unknown>).redacts as string)
          : undefined,
  };
}

export class MatrixHandler {
  readonly #c: CoreContext;
  readonly #bot: BridgeBot;
  readonly #portals: PortalManager;
  readonly #names = new Map<string, string>();

  constructor(c: CoreContext, bot: BridgeBot, portals: PortalManager) {
    this.#c = c;
    this.#bot = bot;
    this.#portals = portals;
  }

  async handle(ev: MatrixEvent): Promise<void> {
    const c = this.#c;
    if (c.isOurs(ev.sender)) return; // echo suppression: our ghosts' and bot's events never go back
    if (ev.type === 'm.room.member' && ev.state_key !== undefined) return this.#member(ev);
    if (ev.type === 'm.room.encryption' || ev.type === 'm.room.encrypted') return this.#encrypted(ev);
    if (ev.state_key !== undefined) return;
    const owner = c.store.managementOwner(ev.room_id);
    if (owner && ev.type === 'm.room.message') {
      // No body: not a command (e.g. a message whose secret was emptied, replayed after a crash).
      if (owner !== ev.sender || typeof ev.content.body !== 'string') return;
      // An edit ("* help") is no new command: answering it would give the original a second reply.
      if ((ev.content['m.relates_to'] as { rel_type?: unknown } | undefined)?.rel_type === 'm.replace') return;
      const reply = await this.#bot.onMessage(
        ev.sender as MatrixUserId,
        ev.room_id as MatrixRoomId,
        ev.event_id,
        ev.content.body,
      );
      await this.#sendNotice(ev.room_id, reply, `reply:${ev.event_id}`, true);
      return;
    }
    const portal = c.store.portalByRoom(ev.room_id);
    if (!portal || portal.broken) return;
    await this.#toRemote(ev, { id: portal.remoteRoomId as RemoteRoomId });
  }

  async #member(ev: MatrixEvent): Promise<void> {
    const c = this.#c;
    const membership = ev.content.membership;
    if (ev.state_key === c.botUserId && membership === 'invite') {
      const level = this.#bot.level(ev.sender);
      if (level === 'none') {
        c.log.info({ room_id: ev.room_id, inviter: ev.sender }, 'rejecting invite from a user without permission');
        await c.intents.bot.leave(ev.room_id);
        return;
      }
      await c.intents.bot.join(ev.room_id);
      // A management room is a DM: the inviter and the bot only (as mautrix bridges tell them apart). A room
      // with our ghosts is a portal (or one a user is opening from Matrix); a room with other people is not
      // for commands, since every message of the inviter there would get a reply.
      if (c.store.portalByRoom(ev.room_id)) return;
      const others = new Set<string>();
      let ghosts = false;
      for (const m of await c.intents.bot.members(ev.room_id)) {
        if (m.membership !== 'join' && m.membership !== 'invite') continue;
        if (c.isOurs(m.userId)) ghosts ||= m.userId !== c.botUserId;
        else others.add(m.userId);
      }
      if (ghosts) return;
      if (others.size !== 1 || !others.has(ev.sender)) {
        c.log.info({ room_id: ev.room_id, inviter: ev.sender }, 'invited to a room that is not a DM; leaving');
        await this.#sendNotice(
          ev.room_id,
          `I only take commands in a direct chat with me, so I am leaving this room. To use the bridge, start a direct chat with ${c.botUserId} (nobody else in it) and send "help".`,
          `notdm:${ev.event_id}`,
          false,
        );
        await c.intents.bot.leave(ev.room_id);
        return;
      }
      c.store.managementSet(ev.sender, ev.room_id, c.now());
      await this.#sendNotice(
        ev.room_id,
        `Hello! I am the ${c.connector?.displayName ?? 'Matrix'} bridge bot. Send "help" to see what I can do.`,
        `welcome:${ev.event_id}`,
        false,
      );
      return;
    }
    const portal = c.store.portalByRoom(ev.room_id);
    const invitedGhost = membership === 'invite' ? c.remoteForGhost(ev.state_key!) : undefined;
    if (invitedGhost && !portal && !c.store.managementOwner(ev.room_id)) {
      await this.#openFromMatrix(ev, invitedGhost);
      return;
    }
    if (!portal?.fixedMembers || (membership !== 'invite' && membership !== 'leave' && membership !== 'ban')) return;
    if (invitedGhost) {
      // A ghost already in the room was one of the members the portal was opened with (the invites of one
      // creation arrive one by one): that is no change. Any other ghost declines, since chatd cannot add it.
      const current = await c.intents.bot.stateEvent(ev.room_id, 'm.room.member', ev.state_key!);
      if (current?.membership === 'join') return;
      await this.#ghostLeaves(ev.state_key!, ev.room_id);
    } else if (c.isOurs(ev.state_key!)) return;
    const net = c.connector?.displayName ?? 'The remote network';
    await this.#sendNotice(
      ev.room_id,
      `${net} rooms have fixed members, so this change is not mirrored there. To talk with other people, invite their ${net} users to a new room.`,
      `members:${ev.event_id}`,
      false,
    );
  }

  /**
   * Issue §6, Matrix-initiated DMs: a user invited a ghost into a room that is not bridged yet. With a linked
   * account whose client can open remote rooms, the ghost joins, the remote room is opened from the user's
   * puppet with every ghost invited so far (a group invites several at once), and the Matrix room becomes its
   * portal; when the remote network hands back a room that already has a portal (chatd keeps one room per
   * member set), the user is invited to that portal instead. Without a linked account the ghost declines.
   */
  async #openFromMatrix(ev: MatrixEvent, first: RemoteUserId): Promise<void> {
    const c = this.#c;
    const user = ev.sender as MatrixUserId;
    const net = c.connector?.displayName ?? 'remote';
    const ghost = c.intents.intent(ev.state_key!);
    const decline = (userId: string) => this.#ghostLeaves(userId, ev.room_id);
    let client: PuppetClient | undefined;
    try {
      client = await c.puppetClient(user);
    } catch (err) {
      if (!(err instanceof PuppetLoggedOutError)) throw err;
      await this.#loggedOut(user, err, ev.event_id);
    }
    if (!client || !isDmCreatingPuppet(client)) {
      await decline(ev.state_key!);
      const mgmt = c.store.managementRoom(user);
      if (mgmt && c.store.flagOnce(ev.room_id, `nodm:${user}`, c.now()))
        await this.#sendNotice(
          mgmt,
          client
            ? `Conversations with ${net} users cannot be started from Matrix.`
            : `To chat with ${net} users from Matrix, link your ${net} account first: send "login" here, then invite them again.`,
          `nodm:${ev.event_id}`,
          false,
        );
      return;
    }
    await this.#portals.ensureGhost(first);
    await ghost.join(ev.room_id);
    const invited = new Set<string>();
    const members: RemoteUserId[] = [];
    for (const m of await ghost.members(ev.room_id)) {
      if (m.membership !== 'invite' && m.membership !== 'join') continue;
      const remote = c.remoteForGhost(m.userId);
      if (!remote || remote === client.remoteUser || members.includes(remote)) continue;
      members.push(remote);
      invited.add(m.userId);
    }
    const say = (text: string, key: string) =>
      ghost
        .sendEvent(ev.room_id, 'm.room.message', { msgtype: 'm.notice', body: text }, txnIdFor(`${key}:${ev.event_id}`))
        .catch((err: unknown) => c.log.warn({ room_id: ev.room_id, err: describeError(err) }, 'ghost notice failed'));
    let opened: Awaited<ReturnType<typeof client.createRoom>>;
    try {
      if (members.length === 0) throw new Error('no other participant');
      opened = await client.createRoom(members);
    } catch (err) {
      if (err instanceof RemoteApiError && err.retryable) throw err; // the outbox tries again later
      if (err instanceof PuppetLoggedOutError) await this.#loggedOut(user, err, ev.event_id);
      else {
        c.log.warn({ room_id: ev.room_id, err: describeError(err) }, 'could not open a remote room from Matrix');
        await say(`${net} could not open this conversation, so this room is not bridged.`, 'dm-failed');
      }
      for (const g of invited) await decline(g);
      return;
    }
    const existing = c.store.portalByRemote(opened.portal.id);
    if (existing?.matrixRoomId && existing.matrixRoomId !== ev.room_id) {
      await c.intents.bot.invite(existing.matrixRoomId, user);
      c.store.flagOnce(existing.matrixRoomId, `member:${user}`, c.now());
      await say(
        `You already have this ${net} conversation in another room, and I invited you to it (${existing.matrixRoomId}). This room is not bridged.`,
        'dm-existing',
      );
      for (const g of invited) await decline(g);
      return;
    }
    await this.#portals.adoptUserRoom(
      opened.portal,
      ev.room_id,
      opened.info,
      user,
      client.remoteUser,
      ev.state_key!,
      invited,
    );
  }

  /** A ghost declines an invite (or leaves): it cannot follow the room on the remote network. Best effort. */
  async #ghostLeaves(userId: string, roomId: string): Promise<void> {
    const ghost = this.#c.intents.intent(userId);
    try {
      await ghost.ensureRegistered();
      await ghost.leave(roomId);
    } catch (err) {
      this.#c.log.info({ room_id: roomId, user: userId, err: describeError(err) }, 'ghost could not leave');
    }
  }

  async #encrypted(ev: MatrixEvent): Promise<void> {
    const c = this.#c;
    if (!c.store.flagOnce(ev.room_id, 'encrypted-notice', c.now())) return;
    await this.#sendNotice(
      ev.room_id,
      'This room is encrypted, and the bridge does not support encrypted rooms: messages here are not bridged. ' +
        'Please start an unencrypted direct chat with me instead (turn off encryption when creating it).',
      `encrypted:${ev.room_id}`,
      false,
    );
  }

  async #toRemote(ev: MatrixEvent, portal: PortalKey): Promise<void> {
    const c = this.#c;
    if (c.store.remoteForEvent(ev.event_id)) return; // already sent (re-run after a crash before the row was marked done)
    const sender = ev.sender as MatrixUserId;
    const senderName = await this.#displayName(sender);
    let client: PuppetClient | undefined;
    try {
      client = await c.puppetClient(sender);
    } catch (err) {
      if (!(err instanceof PuppetLoggedOutError)) throw err;
      await this.#loggedOut(sender, err, ev.event_id);
    }
    let relayedFor: OutgoingMessage['relayedFor'];
    if (!client) {
      const relay = c.opts.relay && atLeast(this.#bot.level(sender), 'relay') ? c.connector?.relay() : undefined;
      if (!relay) {
        if (c.store.flagOnce(ev.room_id, `nologin:${sender}`, c.now())) {
          await this.#sendNotice(
            ev.room_id,
            `${senderName}, your messages are not bridged: send "login" to me in a direct chat to link your account.`,
            `nologin:${ev.event_id}`,
            false,
          );
        }
        return;
      }
      client = relay;
      relayedFor = { userId: sender, displayName: senderName };
    }
    const rel = ev.content['m.relates_to'] as
      { rel_type?: string; event_id?: string; key?: string; 'm.in_reply_to'?: { event_id?: string } } | undefined;
    const target = (id: string | undefined) =>
      id ? (c.store.remoteForEvent(id)?.remoteId as RemoteMessageId | undefined) : undefined;
    const base = (body: NeutralMessage): OutgoingMessage => ({
      body,
      eventId: ev.event_id as MatrixEventId,
      sender: { userId: sender, displayName: senderName },
      at: new Date(ev.origin_server_ts ?? c.now()),
      ...(relayedFor ? { relayedFor } : {}),
    });
    let result: SendResult | undefined;
    try {
      if (ev.type === 'm.room.redaction') {
        const t = target(ev.redacts);
        if (t && isRedactingPuppet(client)) await client.sendRedaction(portal, t);
        return; // without support, the redaction is only recorded by being consumed here
      }
      if (ev.type === 'm.reaction') {
        const t = target(rel?.event_id);
        if (!c.opts.reactions || !t || !rel?.key || !isReactingPuppet(client)) return;
        const out = base({ kind: 'text', text: rel.key });
        const quote = await this.#quote(ev.room_id, rel.event_id!);
        if (quote !== undefined) out.replyQuote = quote; // what was reacted to
        result = await client.sendReaction(portal, t, rel.key, out);
      } else if (ev.type === 'm.room.message') {
        if (rel?.rel_type === 'm.replace') {
          const t = target(rel.event_id);
          if (!t || !isEditingPuppet(client)) return;
          const next = ev.content['m.new_content'];
          // An edit without `m.new_content`, or of someone else's message, is not a valid replacement.
          if (!next || typeof next !== 'object' || Array.isArray(next)) return;
          if (!(await this.#validReplacement(ev, rel.event_id!))) return;
          const body = this.#neutral(next as Record<string, unknown>);
          if (!body) return;
          result = await client.sendEdit(portal, t, base(body));
        } else {
          const body = this.#neutral(ev.content);
          if (!body) return;
          const replyId = rel?.['m.in_reply_to']?.event_id;
          const replyTo = target(replyId);
          const out = base(replyTo ? { ...body, replyTo } : body);
          if (replyTo) {
            const quote = await this.#quote(ev.room_id, replyId!);
            if (quote !== undefined) out.replyQuote = quote;
          }
          result = await client.send(portal, out);
        }
      } else return;
    } catch (err) {
      if (err instanceof PuppetLoggedOutError) {
        // Refused with 401 after one refresh: nothing was posted, and the user must know to send it again.
        await this.#loggedOut(sender, err, ev.event_id, true);
        return;
      }
      if (err instanceof PortalGoneError) {
        c.store.portalMarkBroken(portal.id, err.message);
        await this.#sendNotice(
          ev.room_id,
          `This room no longer exists on ${c.connector?.displayName ?? 'the remote network'}; messages here are not bridged any more.`,
          `gone:${ev.event_id}`,
          false,
        );
        return;
      }
      // Retryable RemoteApiErrors go back to the outbox (retried later); anything else fails the row, logged there.
      throw err;
    }
    if (!result) return;
    if ('unconfirmed' in result) {
      await this.#sendNotice(
        ev.room_id,
        `${senderName}, your message may not have been delivered (${result.unconfirmed}); please check and resend if needed.`,
        `unconfirmed:${ev.event_id}`,
        false,
      );
      return;
    }
    c.store.mapInsert(
      {
        eventId: ev.event_id,
        remoteId: result.remoteId,
        roomId: ev.room_id,
        remoteRoomId: portal.id,
        direction: 'to-remote',
      },
      c.now(),
    );
  }

  /**
   * Spec, "Event replacements" (validity of replacement events): the original must have the same sender and
   * type as the edit, no state key, and must not be an edit itself; otherwise the edit is ignored. Matrix
   * does not enforce this server-side, so without it a user could "edit" someone else's bridged message.
   */
  /**
   * The text of the message a reply (or reaction) points at, for the connector's quoted fallback: its `body`
   * as the bot sees it, undefined when it cannot be read. A quote is cosmetic, so a failed read never holds
   * the message back.
   */
  async #quote(roomId: string, eventId: string): Promise<string | undefined> {
    try {
      const original = await this.#c.intents.bot.event(roomId, eventId);
      const body = original?.content.body;
      return typeof body === 'string' && body.trim() !== '' ? body : undefined;
    } catch (err) {
      this.#c.log.debug({ event_id: eventId, err: (err as Error)?.message }, 'reply target not readable; no quote');
      return undefined;
    }
  }

  async #validReplacement(edit: MatrixEvent, originalId: string): Promise<boolean> {
    const original = await this.#c.intents.bot.event(edit.room_id, originalId);
    const rel = original?.content['m.relates_to'] as { rel_type?: unknown } | undefined;
    const ok =
      original !== undefined &&
      original.sender === edit.sender &&
      original.type === edit.type &&
      original.state_key === undefined &&
      rel?.rel_type !== 'm.replace';
    if (!ok)
      this.#c.log.info(
        { event_id: edit.event_id, original: originalId, sender: edit.sender },
        'ignoring an invalid edit (not the sender’s own message)',
      );
    return ok;
  }

  async #loggedOut(user: MatrixUserId, err: Error, eventId: string, messageLost = false): Promise<void> {
    const c = this.#c;
    c.store.puppetLoggedOut(user, err.message);
    c.log.warn({ user, err: err.message }, 'puppet logged out');
    const mgmt = c.store.managementRoom(user);
    const net = c.connector?.displayName ?? 'remote';
    if (mgmt)
      await this.#sendNotice(
        mgmt,
        `Your ${net} session has ended (${err.message}). Send "login" to link your account again.` +
          (messageLost ? ` The message you just sent was not delivered to ${net}: send it again.` : ''),
        `loggedout:${eventId}`,
        false,
      );
  }

  #neutral(content: Record<string, unknown>): NeutralMessage | undefined {
    const c = this.#c;
    const msgtype = content.msgtype;
    const text = typeof content.body === 'string' ? content.body : '';
    const html =
      content.format === 'org.matrix.custom.html' && typeof content.formatted_body === 'string'
        ? content.formatted_body
        : undefined;
    if (msgtype === 'm.text' || msgtype === 'm.notice' || msgtype === 'm.emote') {
      return {
        kind: msgtype === 'm.notice' ? 'notice' : msgtype === 'm.emote' ? 'emote' : 'text',
        text,
        ...(html ? { html } : {}),
      };
    }
    const kinds: Record<string, 'image' | 'file' | 'video' | 'audio'> = {
      'm.image': 'image',
      'm.file': 'file',
      'm.video': 'video',
      'm.audio': 'audio',
    };
    const kind = typeof msgtype === 'string' ? kinds[msgtype] : undefined;
    if (kind && typeof content.url === 'string' && content.url.startsWith('mxc://')) {
      const info = (content.info ?? {}) as { mimetype?: string; size?: number };
      const name = typeof content.filename === 'string' && content.filename ? content.filename : text || 'file';
      // Spec v1.10 (media captions): when `filename` is present and differs from `body`, `body` is a caption.
      const caption = name !== text && text.trim() !== '' ? text : undefined;
      const [server, id] = content.url.slice(6).split('/');
      const base = c.opts.publicMediaUrl.replace(/\/$/, '');
      const url = base
        ? `${base}/_matrix/client/v1/media/download/${encodeURIComponent(server ?? '')}/${encodeURIComponent(id ?? '')}/${encodeURIComponent(name)}`
        : undefined;
      return {
        kind: 'text',
        text: caption ?? name,
        ...(caption && html ? { html } : {}),
        media: {
          kind,
          name,
          mxc: content.url,
          ...(url ? { url } : {}),
          ...(info.mimetype ? { mimeType: info.mimetype } : {}),
          ...(info.size ? { size: info.size } : {}),
        },
      };
    }
    return undefined;
  }

  async #displayName(user: string): Promise<string> {
    const cached = this.#names.get(user);
    if (cached) return cached;
    const profile = await this.#c.intents.bot.getProfile(user);
    const name = profile.displayname || user.slice(1, user.indexOf(':'));
    this.#names.set(user, name);
    return name;
  }

  /** A bot notice with a txnId derived from `key`, so a reprocessed event never doubles the reply. */
  async #sendNotice(roomId: string, text: string, key: string, mustDeliver: boolean): Promise<void> {
    if (mustDeliver) {
      await this.#c.intents.bot.sendEvent(
        roomId,
        'm.room.message',
        { msgtype: 'm.notice', body: text },
        txnIdFor(`notice:${key}`),
      );
      return;
    }
    await this.#c.notice(roomId, text, key);
  }
}
