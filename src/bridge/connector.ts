/**
 * The contract between the generic bridge core and a remote-network connector (Wazo is the first one).
 * The core declares these interfaces; a connector implements them. Modelled on mautrix bridgev2's
 * `networkinterface.go`: one required `NetworkConnector`, one `PuppetClient` per logged-in account (and
 * one for the relay), and small optional extras found with type guards, never empty stub methods.
 *
 * Threading model: the core calls a connector from one ordered queue per portal, so calls for one portal
 * never overlap; calls for different portals may run concurrently.
 */
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type {
  MatrixEventId,
  MatrixRoomId,
  MatrixUserId,
  PortalKey,
  RemoteMessageId,
  RemoteRoomId,
  RemoteUserId,
} from './ids.ts';

// ---------------------------------------------------------------------------------------------------
// Network-neutral content

/** Media attached to a message, in either direction. */
export interface NeutralMedia {
  kind: 'image' | 'file' | 'video' | 'audio';
  /** File name shown to users. */
  name: string;
  mimeType?: string;
  size?: number;
  /**
   * Where the bytes are. Remote → Matrix: an `http(s)` URL the core links to, or `bytes` the core uploads
   * to the media repository (then sends `m.image`/`m.file`). Matrix → remote: a public `http(s)` URL of
   * the file (built by the core from `[bridge] public_media_url`) plus the original `mxc://` URI.
   */
  url?: string;
  mxc?: string;
  /** Raw bytes to upload (remote → Matrix only, and only when `[bridge] media = true`). */
  bytes?: Uint8Array;
}

/** A message body with no network-specific markup. */
export interface NeutralMessage {
  /** `text` (m.text), `notice` (m.notice) or `emote` (m.emote). */
  kind: 'text' | 'notice' | 'emote';
  /** Plain text; always present (the fallback every client can show). */
  text: string;
  /**
   * Sanitised HTML (Matrix `org.matrix.custom.html`), only when it differs from `text`. Remote → Matrix:
   * the connector renders it (markdown-it with `html: false`); the core never renders markup itself.
   */
  html?: string;
  /** The message this one replies to, when the network says so. */
  replyTo?: RemoteMessageId;
  media?: NeutralMedia;
}

// ---------------------------------------------------------------------------------------------------
// Remote → Matrix

/** Who sent a remote event. */
export interface RemoteSender {
  /** The remote user; shown on Matrix as the ghost `@<ghost_prefix><id>:<domain>`. */
  id: RemoteUserId;
}

/** Room metadata the core needs to create or update a portal. */
export interface RoomInfo {
  /** Room name; when absent the core names the room after the members' display names. */
  name?: string;
  topic?: string;
  /** Every remote participant. Matrix users linked (puppets) to one of them are invited to the portal. */
  members: RemoteUserId[];
  /** True for one-to-one conversations (`is_direct` on invites, `com.beeper.room_type` "dm"). */
  isDirect?: boolean;
  /**
   * True when the remote network fixes the member set at creation (wazo-chatd). The bot then answers a
   * Matrix membership change in the portal with a notice instead of trying to mirror it.
   */
  fixedMembers?: boolean;
}

/** Profile of a remote user, used for the ghost's Matrix profile. */
export interface GhostInfo {
  /** Display name; the core updates Matrix only when it changed. */
  name?: string;
  /** `mxc://` avatar already uploaded, when there is one; the core updates Matrix only when it changed. */
  avatarMxc?: string;
  /** Extra contact data kept in the ghosts table for the pipeline (never put in the MXID). */
  email?: string;
  phone?: string;
}

/** An event from the remote network, queued on the core with {@link BridgeHost.queueRemoteEvent}. */
export type RemoteEvent =
  | {
      kind: 'message';
      portal: PortalKey;
      sender: RemoteSender;
      /** Unique message ID: the core drops a second event with the same ID (dedupe of N copies, echoes). */
      remoteId: RemoteMessageId;
      /** When the remote network says the message was written. */
      at: Date;
      body: NeutralMessage;
      /**
       * Send with the original timestamp (appservice `ts`): set for backfilled messages and stragglers
       * delivered late, so Matrix shows when they were written.
       */
      keepTimestamp?: boolean;
    }
  | {
      kind: 'room-info';
      portal: PortalKey;
      /** Changed fields only; applied to an existing portal (name, topic). Never creates one. */
      info: Partial<RoomInfo>;
    }
  | {
      kind: 'ghost-info';
      user: RemoteUserId;
      /** Changed fields only; applied when they differ from what Matrix already shows. */
      info: GhostInfo;
    };

// ---------------------------------------------------------------------------------------------------
// Matrix → remote

/** A Matrix message to post on the remote network. */
export interface OutgoingMessage {
  body: NeutralMessage;
  /** The Matrix event being bridged; stable across retries, so a connector may use it as an idempotency key. */
  eventId: MatrixEventId;
  /** Who wrote it on Matrix. */
  sender: { userId: MatrixUserId; displayName: string };
  /** When the Matrix event was sent (origin_server_ts). */
  at: Date;
  /** Set when the relay posts for a user without a puppet: the connector shows it (e.g. Wazo `alias`). */
  relayedFor?: { userId: MatrixUserId; displayName: string };
  /** The first line of the message replied to, when the reply target is known, for a quoted fallback. */
  replyQuote?: string;
}

/** Result of a send. `unconfirmed` means the message may or may not have arrived and must not be retried. */
export type SendResult = { remoteId: RemoteMessageId } | { unconfirmed: string };

/** A puppet as the core stores it. */
export interface PuppetRecord {
  /** The Matrix user who linked their remote account. */
  matrixUser: MatrixUserId;
  /** Their remote account. */
  remoteUser: RemoteUserId;
  /** Name shown in confirmations and `list` (e.g. "Ada Lovelace (ada)"). */
  remoteName: string;
  /**
   * Opaque connector data (tokens...). The core stores it verbatim, so the connector must encrypt any secret
   * in it itself (key: `[bridge] encryption_key`) and must never log it.
   */
  credentials: string;
}

/**
 * One remote account the bridge can act as: a user's puppet or the relay. Created by the connector
 * ({@link NetworkConnector.connectPuppet}, {@link NetworkConnector.relay}); the core keeps it while the
 * puppet stays logged in.
 */
export interface PuppetClient {
  /** The remote account this client acts as. */
  readonly remoteUser: RemoteUserId;
  /**
   * Posts a message. Called from the portal's queue, once per Matrix event (again after a crash only if the
   * previous attempt did not record a result). May do network I/O. Throw `RemoteApiError` with a retryable
   * status (0, 429, 5xx) to have the outbox retry later with backoff; throw {@link PuppetLoggedOutError} when
   * the account's credentials are definitively rejected; throw {@link PortalGoneError} when the remote room no
   * longer exists. Return `{ unconfirmed }` when the outcome is unknown and a retry could duplicate: the core
   * tells the sender and does not retry. Must not write core tables.
   */
  send(portal: PortalKey, msg: OutgoingMessage): Promise<SendResult>;
}

/** Optional: the puppet can post an edit of an earlier bridged message. */
export interface EditingPuppet extends PuppetClient {
  /** Called for `m.replace` edits of a bridged message. Same error rules as `send`. */
  sendEdit(portal: PortalKey, target: RemoteMessageId, msg: OutgoingMessage): Promise<SendResult>;
}

/** Optional: the puppet can bridge reactions. */
export interface ReactingPuppet extends PuppetClient {
  /** Called for `m.reaction` on a bridged message. `key` is the reaction (usually an emoji). */
  sendReaction(portal: PortalKey, target: RemoteMessageId, key: string, msg: OutgoingMessage): Promise<SendResult>;
}

/** Optional: the puppet can delete a bridged message. Without it the core only records the redaction. */
export interface RedactingPuppet extends PuppetClient {
  /** Called for `m.room.redaction` of a bridged message. Same error rules as `send`. */
  sendRedaction(portal: PortalKey, target: RemoteMessageId): Promise<void>;
}

/** Optional: the puppet can open a remote conversation for a Matrix user who invited ghosts to a new room. */
export interface DmCreatingPuppet extends PuppetClient {
  /**
   * Creates (or finds: some networks keep one room per member set) the remote room with `members` plus the
   * puppet itself. The core then maps the Matrix room, or invites the user to the existing portal.
   */
  createRoom(members: RemoteUserId[]): Promise<{ portal: PortalKey; info: RoomInfo }>;
}

export const isEditingPuppet = (p: PuppetClient): p is EditingPuppet =>
  typeof (p as Partial<EditingPuppet>).sendEdit === 'function';
export const isReactingPuppet = (p: PuppetClient): p is ReactingPuppet =>
  typeof (p as Partial<ReactingPuppet>).sendReaction === 'function';
export const isRedactingPuppet = (p: PuppetClient): p is RedactingPuppet =>
  typeof (p as Partial<RedactingPuppet>).sendRedaction === 'function';
export const isDmCreatingPuppet = (p: PuppetClient): p is DmCreatingPuppet =>
  typeof (p as Partial<DmCreatingPuppet>).createRoom === 'function';

// ---------------------------------------------------------------------------------------------------
// Login (the bot's `login` / `logout` commands)

/** What the bot says next during a login. */
export type LoginStep =
  | {
      kind: 'input';
      /** Question the bot sends (one message). */
      prompt: string;
      /** The answer is a secret: the core redacts the user's reply at once (or asks them to delete it) and never logs it. */
      secret?: boolean;
    }
  | {
      kind: 'done';
      /** The new puppet; the core stores it, confirms with `message` and connects it. */
      puppet: Omit<PuppetRecord, 'matrixUser'>;
      /** Confirmation sent to the user, e.g. "Logged in as Ada Lovelace (ada)". */
      message: string;
    };

/** One login in progress for one Matrix user. Dropped by the core after `done`, an error or a new `login`. */
export interface LoginProcess {
  /**
   * Starts the flow with the words after `login` (e.g. a username). May do network I/O. Throw an `AppError`
   * with a user-readable message for a refusal (wrong password...): the core replies with that message.
   */
  start(args: string[]): Promise<LoginStep>;
  /** Called with the user's next message in the management room. Same rules as `start`. Must not log `input`. */
  submit(input: string): Promise<LoginStep>;
}

/** Optional: the connector lets users link their own remote account (double puppeting). */
export interface LoginConnector extends NetworkConnector {
  /** Called on `login`. No I/O here; the process does it. */
  createLogin(user: MatrixUserId): LoginProcess;
  /** Called on `logout`, before the core deletes the puppet: revoke tokens remotely. Errors are reported, the puppet is deleted anyway. */
  logout(puppet: PuppetRecord): Promise<void>;
}

export const isLoginConnector = (c: NetworkConnector): c is LoginConnector =>
  typeof (c as Partial<LoginConnector>).createLogin === 'function' &&
  typeof (c as Partial<LoginConnector>).logout === 'function';

// ---------------------------------------------------------------------------------------------------
// Extra bot commands

/** Permission levels of `[bridge] permissions`, lowest first. */
export type PermissionLevel = 'none' | 'relay' | 'user' | 'admin';

/** A bot command contributed by a connector. */
export interface BotCommand {
  /** Lower-case word typed by the user. Must not clash with help, ping, login, logout, login-matrix, logout-matrix, list, status. */
  name: string;
  /** One line for `help`. */
  summary: string;
  /** Lowest level allowed to run it. */
  level: Exclude<PermissionLevel, 'none'>;
  /** Runs the command and returns the one reply the bot sends. May do network I/O. Must not send messages itself. */
  run(ctx: { user: MatrixUserId; args: string[]; roomId: MatrixRoomId }): Promise<string>;
}

/** Optional: the connector adds bot commands. */
export interface CommandConnector extends NetworkConnector {
  /** Read once at start. */
  readonly commands: readonly BotCommand[];
}

export const isCommandConnector = (c: NetworkConnector): c is CommandConnector =>
  Array.isArray((c as Partial<CommandConnector>).commands);

// ---------------------------------------------------------------------------------------------------
// The connector and what the core offers it

/** Connectivity to the remote network, for the bot's `ping` and /health. */
export interface NetworkStatus {
  ok: boolean;
  /** One line for humans, e.g. "connected to wazo.example.com (websocket)" or the failure. Never a secret. */
  detail: string;
}

/**
 * What the core offers a connector. Handed over in {@link NetworkConnector.start}. All methods are safe to
 * call from any feed (websocket, webhook, backfill) at any time after `start` began.
 */
export interface BridgeHost {
  /**
   * Queues a remote event. Resolves once the event is written to the outbox, in the core's group commit
   * (src/db/group-commit.ts): it becomes durable no later than any write the caller makes afterwards on the
   * same database (a cursor, an inbox removal), and before anything is delivered for it. A caller that
   * acknowledges an external sender must hold its own durable record first (the Wazo webhook inbox). A message whose `remoteId` is already queued or
   * bridged is dropped here (so N copies of one message make one Matrix message). Delivery is asynchronous,
   * in order per portal. The core creates a portal for any queued message in an unknown room, so the
   * connector filters first (e.g. only rooms with a linked participant unless `bridge_all_rooms`).
   */
  queueRemoteEvent(ev: RemoteEvent): Promise<void>;
  /** True when the message was already queued or bridged (either direction). Sync, no I/O. */
  isKnownMessage(remoteId: RemoteMessageId): boolean;
  /** True when a portal exists for this remote room. Sync, no I/O. */
  hasPortal(room: RemoteRoomId): boolean;
  /** The Matrix user linked to this remote account (a logged-in puppet), if any. Sync, no I/O. */
  matrixUserFor(remote: RemoteUserId): MatrixUserId | undefined;
  /** Every stored puppet (for backfill after a reconnect). Sync, no I/O. */
  puppets(): PuppetRecord[];
  /** Replaces a puppet's opaque credentials (e.g. a refreshed token). Sync. */
  updatePuppetCredentials(user: MatrixUserId, credentials: string): void;
  /** Sends one notice to the user's management room (if they have one). Never throws; failures are logged. */
  notifyUser(user: MatrixUserId, text: string): Promise<void>;
  /** Sends one notice from the bot into the portal's room. Never throws; failures are logged. */
  notifyPortal(room: RemoteRoomId, text: string): Promise<void>;
  /** Logger bound to the connector. */
  readonly log: Logger;
}

/**
 * The remote network. One instance per bridge process, created by the composition root (src/cli).
 */
export interface NetworkConnector {
  /** Protocol id: `m.bridge` `protocol.id`, ghost tables, logs. Lower-case, e.g. `wazo`. */
  readonly network: string;
  /** Human name, e.g. `Wazo`. */
  readonly displayName: string;
  /**
   * Opens shared connections (websocket, webhook subscription) and starts feeding {@link BridgeHost}. Called
   * once, after the HTTP server listens and after the core loaded its state. Must not throw for an unreachable
   * network: retry in the background until `signal` aborts, and report through `ping`.
   */
  start(host: BridgeHost, signal: AbortSignal): Promise<void>;
  /** Closes connections; called once at shutdown, after the core stopped calling the connector. */
  stop(): Promise<void>;
  /** Connectivity report for the bot's `ping`. May do network I/O; must answer within a few seconds. */
  ping(): Promise<NetworkStatus>;
  /**
   * Room metadata, called when the core creates a portal for a message in an unknown room. May do network I/O
   * (and should cache). Throw `RemoteApiError` (retryable) to have the event retried later.
   */
  getRoomInfo(portal: PortalKey): Promise<RoomInfo>;
  /** Profile of a remote user, called the first time the core meets a ghost. May do network I/O (cache it). */
  getGhostInfo(user: RemoteUserId): Promise<GhostInfo>;
  /**
   * Builds the client of a stored puppet; called lazily before its first send and after a restart. Should not
   * do network I/O beyond what is needed to be ready; throw {@link PuppetLoggedOutError} if the credentials are
   * unusable.
   */
  connectPuppet(puppet: PuppetRecord): Promise<PuppetClient>;
  /** The relay account's client, or undefined when the network has no relay configured. No I/O. */
  relay(): PuppetClient | undefined;
  /**
   * Ghost localpart suffix for a remote user (after `[appservice] ghost_prefix`): lower-case `a-z 0-9 . _ = - /`
   * only, stable forever, reversible with {@link NetworkConnector.parseGhostLocalpart}. Pure.
   */
  ghostLocalpart(user: RemoteUserId): string;
  /** Inverse of `ghostLocalpart`; undefined when the suffix cannot be one of ours. Pure. */
  parseGhostLocalpart(suffix: string): RemoteUserId | undefined;
}

// ---------------------------------------------------------------------------------------------------
// Errors a connector throws to steer the core

/** The puppet's credentials are definitively rejected: the core marks it logged out and tells the user. */
export class PuppetLoggedOutError extends AppError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('PUPPET_LOGGED_OUT', message, { status: 502, cause: opts.cause });
  }
}

/** The remote room no longer exists: the core marks the portal broken and tells the room. */
export class PortalGoneError extends AppError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('PORTAL_GONE', message, { status: 502, cause: opts.cause });
  }
}
