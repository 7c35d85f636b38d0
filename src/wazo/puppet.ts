/**
 * A Wazo account the bridge posts as: a user's puppet (their own token, from their refresh token) or the relay
 * (the bridge's PBX user, posting with `alias` = the Matrix sender's name). Implements the core's PuppetClient
 * plus the extras chatd can express: edits (as `* corrected`), reactions (a short line, when enabled), and
 * Matrix-initiated rooms. No RedactingPuppet: chatd cannot delete, so the core only records redactions.
 */
import {
  type DmCreatingPuppet,
  type EditingPuppet,
  type OutgoingMessage,
  type PortalKey,
  PortalGoneError,
  PuppetLoggedOutError,
  type ReactingPuppet,
  type RemoteMessageId,
  type RemoteUserId,
  type RoomInfo,
  remoteMessageId,
  remoteRoomId,
  remoteUserId,
  type SendResult,
} from '../bridge/index.ts';
import { RemoteApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ChatdClient } from './chatd.ts';
import type { EchoGuard } from './echo.ts';
import { createdAtKey } from './reorder.ts';
import { editToWazo, matrixToWazo, reactionToWazo } from './to-wazo.ts';

export interface PuppetDeps {
  chatd: ChatdClient;
  /** The Wazo user uuid this account acts as. */
  user: string;
  kind: 'puppet' | 'relay';
  echo: EchoGuard;
  now: () => number;
  log: Logger;
  /** Looks up the text of an earlier bridged Wazo message (for reaction lines); may return undefined. */
  messageText?: (id: RemoteMessageId) => string | undefined;
}

export class WazoPuppet implements EditingPuppet, DmCreatingPuppet {
  readonly #d: PuppetDeps;

  constructor(d: PuppetDeps) {
    this.#d = d;
  }

  /** The account's Wazo user (the relay's is known after its first token). */
  get remoteUser(): RemoteUserId {
    return remoteUserId(this.#d.user);
  }

  get kind(): 'puppet' | 'relay' {
    return this.#d.kind;
  }

  send(portal: PortalKey, msg: OutgoingMessage): Promise<SendResult> {
    const senderName = (msg.relayedFor ?? msg.sender).displayName;
    const content = matrixToWazo(msg.body, { senderName, replyQuote: msg.replyQuote });
    if (content === undefined) return Promise.resolve({ unconfirmed: 'empty message: nothing was sent to Wazo' });
    return this.post(portal, content, msg);
  }

  sendEdit(portal: PortalKey, _target: RemoteMessageId, msg: OutgoingMessage): Promise<SendResult> {
    const content = editToWazo(msg.body, { senderName: (msg.relayedFor ?? msg.sender).displayName });
    if (content === undefined) return Promise.resolve({ unconfirmed: 'empty edit: nothing was sent to Wazo' });
    return this.post(portal, content, msg);
  }

  async createRoom(members: RemoteUserId[]): Promise<{ portal: PortalKey; info: RoomInfo }> {
    const room = await this.#guard(() => this.#d.chatd.createRoom(members));
    const users = room.users.filter((u) => !u.identity).map((u) => remoteUserId(u.uuid.toLowerCase()));
    const info: RoomInfo = { members: users, isDirect: users.length === 2, fixedMembers: true };
    if (room.name) info.name = room.name;
    return { portal: { id: remoteRoomId(room.uuid.toLowerCase()) }, info };
  }

  /** Posts `content` with echo registration and the failure rules of issue §8. */
  async post(portal: PortalKey, content: string, msg: OutgoingMessage): Promise<SendResult> {
    const room = portal.id as string;
    const alias = this.#d.kind === 'relay' ? (msg.relayedFor ?? msg.sender).displayName : undefined;
    const me = this.#d.user || (await this.#d.chatd.whoami());
    const pending = this.#d.echo.begin(room, me, content);
    const startedAt = this.#d.now();
    try {
      const posted = await this.#guard(() => this.#d.chatd.postMessage(room, content, alias));
      pending.settle(posted.uuid.toLowerCase());
      return { remoteId: remoteMessageId(posted.uuid.toLowerCase()) };
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteCode === 'timeout') {
        if (this.#d.kind === 'relay') {
          // Maybe stored: its copy, when it comes, is our echo and must not be bridged back.
          pending.settle(undefined, { unconfirmed: true });
          // The relay is not a participant and cannot read the room: a retry could duplicate.
          return { unconfirmed: 'Wazo did not answer in time; the message may not have been delivered' };
        }
        const found = await this.#findOwn(room, me, content, startedAt).catch((e: unknown) => {
          this.#d.log.warn(
            { portal: room, err: e instanceof Error ? e.message : String(e) },
            'wazo: cannot check history after a timeout',
          );
          return undefined;
        });
        pending.settle(found);
        if (found) return { remoteId: remoteMessageId(found) };
        throw err;
      }
      pending.settle(undefined);
      throw err;
    }
  }

  /** After a POST timeout: was our message stored anyway? Looks at the room's latest messages. */
  async #findOwn(room: string, me: string, content: string, since: number): Promise<string | undefined> {
    const latest = await this.#d.chatd.listMessages(room, { direction: 'desc', limit: 20 });
    const floor = (since - 120_000) * 1000;
    const hit = latest.find(
      (m) => m.user_uuid.toLowerCase() === me && m.content === content && createdAtKey(m.created_at) >= floor,
    );
    return hit?.uuid.toLowerCase();
  }

  /** Maps chatd/auth failures to the core's errors: 401 → logged out, 404 room → portal gone. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 401 && this.#d.kind === 'puppet') {
        throw new PuppetLoggedOutError('Wazo rejected the stored login (refresh token revoked or password changed)', {
          cause: err,
        });
      }
      if (err instanceof RemoteApiError && err.remoteStatus === 404 && err.service === 'wazo-chatd') {
        throw new PortalGoneError('the Wazo room no longer exists', { cause: err });
      }
      throw err;
    }
  }
}

/** A puppet that also bridges reactions as short text lines (only built when `[bridge] reactions = true`). */
export class ReactingWazoPuppet extends WazoPuppet implements ReactingPuppet {
  readonly #text: ((id: RemoteMessageId) => string | undefined) | undefined;
  constructor(d: PuppetDeps) {
    super(d);
    this.#text = d.messageText;
  }

  sendReaction(portal: PortalKey, target: RemoteMessageId, key: string, msg: OutgoingMessage): Promise<SendResult> {
    const name = (msg.relayedFor ?? msg.sender).displayName;
    return this.post(portal, reactionToWazo(name, key, this.#text?.(target) ?? msg.replyQuote), msg);
  }
}
