/**
 * Owner: src/bridge (the appservice core). Portals, ghosts, puppets, the message map, the outbox and the
 * appservice transaction log. Other modules only read these tables (the sync job may read `portals`).
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** One remote room paired with one Matrix room. */
export const portals = sqliteTable('portals', {
  remoteRoomId: text('remote_room_id').primaryKey(),
  network: text('network').notNull(),
  /** Null until the Matrix room exists. */
  matrixRoomId: text('matrix_room_id').unique(),
  name: text('name'),
  topic: text('topic'),
  isDirect: integer('is_direct', { mode: 'boolean' }).notNull().default(false),
  fixedMembers: integer('fixed_members', { mode: 'boolean' }).notNull().default(false),
  /** Why the portal no longer bridges (remote room gone), null while healthy. */
  broken: text('broken'),
  createdAt: integer('created_at').notNull(),
});

/** A remote user shown on Matrix as an appservice user. */
export const ghosts = sqliteTable('ghosts', {
  remoteUserId: text('remote_user_id').primaryKey(),
  network: text('network').notNull(),
  userId: text('user_id').notNull().unique(),
  /** Profile as last written to Matrix (compared to skip unchanged updates). */
  displayName: text('display_name'),
  avatarMxc: text('avatar_mxc'),
  email: text('email'),
  phone: text('phone'),
  registered: integer('registered', { mode: 'boolean' }).notNull().default(false),
  updatedAt: integer('updated_at').notNull(),
});

/** A Matrix user's own remote account. `credentials` is opaque connector data, encrypted by the connector. */
export const puppets = sqliteTable('puppets', {
  matrixUserId: text('matrix_user_id').primaryKey(),
  network: text('network').notNull(),
  remoteUserId: text('remote_user_id').notNull().unique(),
  remoteName: text('remote_name').notNull(),
  credentials: text('credentials').notNull(),
  /** Null while usable; otherwise why it was logged out (credentials rejected). */
  loggedOut: text('logged_out'),
  createdAt: integer('created_at').notNull(),
});

/**
 * A Matrix user's own access token, given with the bot's `login-matrix` for double puppeting: their remote
 * messages are sent with it as their real account. Encrypted (`[bridge] encryption_key`), bound to the user.
 */
export const matrixTokens = sqliteTable('matrix_tokens', {
  matrixUserId: text('matrix_user_id').primaryKey(),
  /** `v1.<iv>.<tag>.<ciphertext>` (src/db/token-crypto.ts), never the token itself. */
  token: text('token').notNull(),
  createdAt: integer('created_at').notNull(),
});

/** Matrix event ⇄ remote message, both unique. */
export const messageMap = sqliteTable(
  'message_map',
  {
    matrixEventId: text('matrix_event_id').primaryKey(),
    remoteMessageId: text('remote_message_id').notNull().unique(),
    matrixRoomId: text('matrix_room_id').notNull(),
    remoteRoomId: text('remote_room_id').notNull(),
    direction: text('direction', { enum: ['to-matrix', 'to-remote'] }).notNull(),
    createdAt: integer('created_at').notNull(),
  },
  // No index on the room: nothing looks rows up by room, and each index costs a random page write per message.
);

/**
 * Durable queue of everything to deliver, per lane: `matrix` holds events pushed by the homeserver (bound
 * for the remote network or the bot), `remote` holds remote events bound for Matrix. Rows of one
 * `queue_key` (a room) are handled strictly in `id` order.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    /** rowid: increasing in insertion order (no AUTOINCREMENT: its bookkeeping costs a write per insert). */
    id: integer('id').primaryKey(),
    lane: text('lane', { enum: ['matrix', 'remote'] }).notNull(),
    queueKey: text('queue_key').notNull(),
    /** Natural key (Matrix event id, remote message id): a second insert is a duplicate. */
    dedupeKey: text('dedupe_key').notNull().unique(),
    payload: text('payload').notNull(),
    state: text('state', { enum: ['pending', 'done', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull().default(0),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    doneAt: integer('done_at'),
  },
  (t) => [
    index('outbox_pending')
      .on(t.queueKey, t.id)
      .where(sql`state = 'pending'`),
  ],
);

/** Appservice transactions already accepted, keyed by (sha256 of the hs_token, txnId). */
export const appserviceTxns = sqliteTable(
  'appservice_txns',
  {
    tokenHash: text('token_hash').notNull(),
    txnId: text('txn_id').notNull(),
    events: integer('events').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tokenHash, t.txnId] })],
);

/** The bot's DM with each user, where commands are accepted. */
export const managementRooms = sqliteTable('management_rooms', {
  matrixUserId: text('matrix_user_id').primaryKey(),
  roomId: text('room_id').notNull().unique(),
  createdAt: integer('created_at').notNull(),
});

/** One-time facts about a Matrix room (e.g. the encrypted-room notice was sent). */
export const roomFlags = sqliteTable(
  'room_flags',
  {
    roomId: text('room_id').notNull(),
    flag: text('flag').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.flag] })],
);
