/**
 * Owner: src/sync (stage 1). Room history read through the Client-Server API, customers, and the
 * conversation segments with their support metrics. classify and export only read these tables.
 *
 * Column names here are a contract with the classify and export stages: add columns, never rename.
 */
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const CHANNELS = ['whatsapp', 'wazo', 'matrix'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CONVERSATION_STATUSES = ['OPEN', 'WAITING_ON_CUSTOMER', 'RESOLVED'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const SENDER_ROLES = ['customer', 'staff', 'bot'] as const;
export type SenderRole = (typeof SENDER_ROLES)[number];

/** A person on the customer side. `key` is stable: `tel:+E164`, `wazo:<user uuid>` or `mxid:@user:hs`. */
export const customers = sqliteTable('customers', {
  key: text('key').primaryKey(),
  channel: text('channel', { enum: CHANNELS }).notNull(),
  phone: text('phone'),
  mxid: text('mxid'),
  name: text('name'),
  email: text('email'),
  wazoUserUuid: text('wazo_user_uuid'),
  /** WhatsApp LID digits (never a phone number). */
  waLid: text('wa_lid'),
  updatedAt: integer('updated_at').notNull(),
});

export const historyRooms = sqliteTable('history_rooms', {
  roomId: text('room_id').primaryKey(),
  channel: text('channel', { enum: CHANNELS }).notNull(),
  name: text('name'),
  isDirect: integer('is_direct', { mode: 'boolean' }).notNull().default(false),
  encrypted: integer('encrypted', { mode: 'boolean' }).notNull().default(false),
  /** m.bridge content.channel.id (WhatsApp JID, Wazo room uuid), when bridged. */
  remoteChannelId: text('remote_channel_id'),
  customerKey: text('customer_key'),
  /** Set when the customer of a WhatsApp room has no phone number we could find. */
  noPhoneNumber: integer('no_phone_number', { mode: 'boolean' }).notNull().default(false),
  lastSyncedAt: integer('last_synced_at'),
  /** WhatsApp: the bridged login's own number (`fi.mau.receiver`), digits only; its ghost is staff. */
  waReceiver: text('wa_receiver'),
  /** The sync account that reads this room (rooms seen by several accounts are read once). */
  account: text('account'),
  /** Number of `m.room.encrypted` events stored (content not available). */
  encryptedEventCount: integer('encrypted_event_count').notNull().default(0),
  /** Last error of this room's sync, cleared on success. */
  lastError: text('last_error'),
});

export const historyEvents = sqliteTable(
  'history_events',
  {
    eventId: text('event_id').primaryKey(),
    roomId: text('room_id').notNull(),
    sender: text('sender').notNull(),
    senderRole: text('sender_role', { enum: SENDER_ROLES }).notNull(),
    /** `m.room.message`, `m.room.encrypted`, ... */
    type: text('type').notNull(),
    msgtype: text('msgtype'),
    /** Current text (latest edit applied); null once redacted or past retention. */
    body: text('body'),
    formattedBody: text('formatted_body'),
    ts: integer('ts').notNull(),
    replyTo: text('reply_to'),
    threadRoot: text('thread_root'),
    editedAt: integer('edited_at'),
    /** The text before the first edit, kept so that redacting the latest edit can restore it. */
    originalBody: text('original_body'),
    originalFormattedBody: text('original_formatted_body'),
    redacted: integer('redacted', { mode: 'boolean' }).notNull().default(false),
    reactionCount: integer('reaction_count').notNull().default(0),
    encrypted: integer('encrypted', { mode: 'boolean' }).notNull().default(false),
    /** The conversation segment it belongs to (conversations.id), set when segments are computed. */
    conversationId: text('conversation_id'),
  },
  (t) => [
    index('history_events_room_ts').on(t.roomId, t.ts),
    index('history_events_conversation').on(t.conversationId),
  ],
);

/** Conversation segments of a room, split by an idle gap, with the metrics support leads ask for. */
export const conversations = sqliteTable(
  'conversations',
  {
    /** `<room id>#<segment start ms>`: also the export's conversationKey. */
    id: text('id').primaryKey(),
    roomId: text('room_id').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    customerKey: text('customer_key'),
    startedAt: integer('started_at').notNull(),
    lastMessageAt: integer('last_message_at').notNull(),
    messageCount: integer('message_count').notNull(),
    customerMessageCount: integer('customer_message_count').notNull(),
    agentMessageCount: integer('agent_message_count').notNull(),
    firstResponseSeconds: real('first_response_seconds'),
    meanResponseSeconds: real('mean_response_seconds'),
    resolutionSeconds: real('resolution_seconds'),
    status: text('status', { enum: CONVERSATION_STATUSES }).notNull(),
    /** JSON array of staff MXIDs who spoke in the segment. */
    agents: text('agents').notNull().default('[]'),
    encrypted: integer('encrypted', { mode: 'boolean' }).notNull().default(false),
    /** Bumped whenever the segment's messages or metrics change; classify/export compare it. */
    revision: integer('revision').notNull().default(1),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('conversations_room').on(t.roomId), index('conversations_customer').on(t.customerKey)],
);

/** Pagination progress per room: committed in the same transaction as the events it covers. */
export const syncCursors = sqliteTable(
  'sync_cursors',
  {
    roomId: text('room_id').notNull(),
    account: text('account').notNull(),
    /** Token to continue a backward (first) walk from; null once the start (or the backfill bound) is reached. */
    backwardToken: text('backward_token'),
    backfillDone: integer('backfill_done', { mode: 'boolean' }).notNull().default(false),
    /** Token to read newer events from (dir=f). */
    forwardToken: text('forward_token'),
    /** Events stored by the backward walk so far (bounded by `[sync] max_events_per_room`). */
    backfillCount: integer('backfill_count').notNull().default(0),
    /** Set when a gap was detected (the forward token was refused): walk back from here to the newest known event. */
    gapToken: text('gap_token'),
    /** The newest event read so far (stream order): where a gap fill stops, even if its row was erased since. */
    lastEventId: text('last_event_id'),
    /** While a gap is filled: the event the fill walks back to (`last_event_id` when the gap was detected). */
    gapStopEventId: text('gap_stop_event_id'),
    /** Events stored by the current gap fill (bounded by `[sync] max_events_per_room`). */
    gapCount: integer('gap_count').notNull().default(0),
    /** The room was replaced (`m.room.tombstone`) and read forward past it: nothing more to read forward. */
    forwardDone: integer('forward_done', { mode: 'boolean' }).notNull().default(false),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.account] })],
);

/**
 * Room upgrades: room `predecessor_room_id` was replaced by `successor_room_id`. Learnt from the old room's
 * `m.room.tombstone` state (`replacement_room`; then `tombstone_event_id` is set) and/or from the new room's
 * `m.room.create` `predecessor.room_id` (then `claimed_by` is the new room's creator). The sync stage follows
 * these links: selection, channel and customer inheritance, and conversations that continue across rooms.
 */
export const historyRoomUpgrades = sqliteTable(
  'history_room_upgrades',
  {
    predecessorRoomId: text('predecessor_room_id').notNull(),
    successorRoomId: text('successor_room_id').notNull(),
    /** The old room's current `m.room.tombstone` naming the successor; null while only the new room says so. */
    tombstoneEventId: text('tombstone_event_id'),
    /** Sender of the tombstone: its server is the `via` used to join the successor. */
    tombstoneSender: text('tombstone_sender'),
    /** The tombstone's `body` (server-defined message). */
    body: text('body'),
    /** Creator of the successor when its `m.room.create` names the predecessor; null otherwise. */
    claimedBy: text('claimed_by'),
    detectedAt: integer('detected_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.predecessorRoomId, t.successorRoomId] }),
    index('history_room_upgrades_successor').on(t.successorRoomId),
  ],
);

/** Every edit (`m.replace`) seen, so the history of a message is kept while `history_events.body` holds the newest. */
export const historyEdits = sqliteTable(
  'history_edits',
  {
    eventId: text('event_id').primaryKey(),
    roomId: text('room_id').notNull(),
    targetEventId: text('target_event_id').notNull(),
    sender: text('sender').notNull(),
    ts: integer('ts').notNull(),
    /** `m.new_content` body; null once the edit or its target is redacted or past retention. */
    body: text('body'),
    formattedBody: text('formatted_body'),
  },
  (t) => [index('history_edits_target').on(t.targetEventId)],
);

/** Reactions (`m.annotation`): `history_events.reaction_count` is the number of live rows per target. */
export const historyReactions = sqliteTable(
  'history_reactions',
  {
    eventId: text('event_id').primaryKey(),
    roomId: text('room_id').notNull(),
    targetEventId: text('target_event_id').notNull(),
    sender: text('sender').notNull(),
    key: text('key'),
    ts: integer('ts').notNull(),
    redacted: integer('redacted', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [index('history_reactions_target').on(t.targetEventId)],
);

/** Redactions seen, kept so a target that arrives later (backward paging) is redacted on insert too. */
export const historyRedactions = sqliteTable(
  'history_redactions',
  {
    eventId: text('event_id').primaryKey(),
    roomId: text('room_id').notNull(),
    targetEventId: text('target_event_id').notNull(),
    sender: text('sender').notNull(),
    ts: integer('ts').notNull(),
  },
  (t) => [index('history_redactions_target').on(t.targetEventId)],
);

/** Membership changes (`m.room.member`): who was in the room when, and earlier ghost MXIDs (LID migration). */
export const historyMemberships = sqliteTable(
  'history_memberships',
  {
    eventId: text('event_id').primaryKey(),
    roomId: text('room_id').notNull(),
    userId: text('user_id').notNull(),
    sender: text('sender').notNull(),
    membership: text('membership').notNull(),
    displayName: text('display_name'),
    reason: text('reason'),
    ts: integer('ts').notNull(),
  },
  (t) => [index('history_memberships_room').on(t.roomId, t.userId)],
);

/** Who is who in a room: the role of each member and, for the customer side, the customer they map to. */
export const historyParticipants = sqliteTable(
  'history_participants',
  {
    roomId: text('room_id').notNull(),
    userId: text('user_id').notNull(),
    role: text('role', { enum: SENDER_ROLES }).notNull(),
    customerKey: text('customer_key'),
    displayName: text('display_name'),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index('history_participants_customer').on(t.customerKey)],
);
