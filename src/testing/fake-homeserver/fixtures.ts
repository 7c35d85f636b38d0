/**
 * Deterministic room builders for the fake homeserver: mautrix-whatsapp portals (state and ghosts as
 * bridgev2 writes them, including the LID migration of direct chats), Wazo portals, encrypted rooms, edits,
 * redactions, reactions, and big generated timelines. Same inputs → same rooms, so tests and benchmarks can
 * assert on exact counts.
 */
import type { FakeEvent, FakeRoom, HomeserverModel } from './model.ts';

/** Adds a user that has no token (a bridge ghost or a remote user): only its profile matters. */
export function addGhost(model: HomeserverModel, userId: string, profile: Record<string, unknown> = {}): string {
  model.users.set(userId, { userId, profile: { ...profile } });
  return userId;
}

export function join(
  model: HomeserverModel,
  room: FakeRoom,
  userId: string,
  ts?: number,
  extra: Record<string, unknown> = {},
): FakeEvent {
  return model.append(room, {
    type: 'm.room.member',
    sender: userId,
    stateKey: userId,
    ts,
    content: { membership: 'join', ...model.memberProfile(userId), ...extra },
  });
}

export function invite(model: HomeserverModel, room: FakeRoom, by: string, userId: string, ts?: number): FakeEvent {
  return model.append(room, {
    type: 'm.room.member',
    sender: by,
    stateKey: userId,
    ts,
    content: { membership: 'invite' },
  });
}

export function leave(
  model: HomeserverModel,
  room: FakeRoom,
  userId: string,
  ts?: number,
  by = userId,
  reason?: string,
): FakeEvent {
  return model.append(room, {
    type: 'm.room.member',
    sender: by,
    stateKey: userId,
    ts,
    content: { membership: 'leave', ...(reason ? { reason } : {}), 'com.beeper.exclude_from_timeline': true },
  });
}

export function say(
  model: HomeserverModel,
  room: FakeRoom,
  sender: string,
  body: string,
  ts: number,
  extra: Record<string, unknown> = {},
): FakeEvent {
  return model.append(room, { type: 'm.room.message', sender, ts, content: { msgtype: 'm.text', body, ...extra } });
}

/** An `m.replace` edit with the `* ` fallback body, as clients send it. */
export function edit(
  model: HomeserverModel,
  room: FakeRoom,
  target: FakeEvent,
  body: string,
  ts: number,
  sender = target.sender,
): FakeEvent {
  return model.append(room, {
    type: 'm.room.message',
    sender,
    ts,
    content: {
      msgtype: 'm.text',
      body: `* ${body}`,
      'm.new_content': { msgtype: 'm.text', body },
      'm.relates_to': { rel_type: 'm.replace', event_id: target.event_id },
    },
  });
}

export function react(
  model: HomeserverModel,
  room: FakeRoom,
  sender: string,
  target: FakeEvent,
  key: string,
  ts: number,
): FakeEvent {
  return model.append(room, {
    type: 'm.reaction',
    sender,
    ts,
    content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: target.event_id, key } },
  });
}

/** Room v11 redaction (`content.redacts`); the model strips the target's content like a server does. */
export function redact(
  model: HomeserverModel,
  room: FakeRoom,
  sender: string,
  target: FakeEvent,
  ts: number,
): FakeEvent {
  return model.append(room, {
    type: 'm.room.redaction',
    sender,
    ts,
    redacts: target.event_id,
    content: { redacts: target.event_id },
  });
}

export interface WhatsappPortalOptions {
  /** Matrix user who logged the company's WhatsApp into the bridge (joins the portal). */
  owner: string;
  /** Digits of the bridged login's own number (`fi.mau.receiver`). */
  receiver: string;
  /** Customer ghost: phone digits and/or LID digits; with both and `migrated`, the DM went through the LID migration. */
  customer: { phone?: string; lid?: string; pushName?: string; identifiers?: string[] };
  /** DM moved from the phone ghost to the LID ghost ("Migrating to LIDs"). */
  migrated?: boolean;
  /** Localpart prefix of ghosts (bridge `username_template`), default `whatsapp_`. */
  ghostPrefix?: string;
  botLocalpart?: string;
  ts: number;
  /** Write the state key-less `m.bridge` only (`bridge.no_bridge_info_state_key`). */
  emptyStateKey?: boolean;
}

/** A mautrix-whatsapp (bridgev2) DM portal: bridge bot creator, `m.bridge` + `uk.half-shot.bridge`, ghost, owner. */
export function whatsappPortal(
  model: HomeserverModel,
  o: WhatsappPortalOptions,
): { room: FakeRoom; ghost: string; phoneGhost?: string; bot: string } {
  const prefix = o.ghostPrefix ?? 'whatsapp_';
  const hs = model.serverName;
  const bot = `@${o.botLocalpart ?? 'whatsappbot'}:${hs}`;
  if (!model.users.has(bot)) addGhost(model, bot, { displayname: 'WhatsApp bridge bot' });
  const displayname = `${o.customer.pushName ?? (o.customer.phone ? `+${o.customer.phone}` : 'Unknown user')} (WA)`;
  const profileExtra = o.customer.identifiers ? { 'com.beeper.bridge.identifiers': o.customer.identifiers } : {};
  const phoneGhost = o.customer.phone
    ? addGhost(model, `@${prefix}${o.customer.phone}:${hs}`, { displayname, ...profileExtra })
    : undefined;
  const lidGhost = o.customer.lid
    ? addGhost(model, `@${prefix}lid-${o.customer.lid}:${hs}`, { displayname, ...profileExtra })
    : undefined;
  const useLid = lidGhost !== undefined && (o.migrated || !phoneGhost);
  const room = model.createRoom(bot);
  let ts = o.ts;
  const channelId = (lid: boolean) => (lid ? `${o.customer.lid}@lid` : `${o.customer.phone}@s.whatsapp.net`);
  const bridgeContent = (lid: boolean) => ({
    bridgebot: bot,
    creator: bot,
    protocol: {
      id: 'whatsapp',
      displayname: 'WhatsApp',
      avatar_url: 'mxc://maunium.net/NeXNQarUbrlYBiPCpprYsRqr',
      external_url: 'https://whatsapp.com',
    },
    channel: { id: channelId(lid), displayname: o.customer.pushName ?? '', 'fi.mau.receiver': o.receiver },
    'com.beeper.room_type': 'dm',
    'com.beeper.room_type.v2': 'dm',
  });
  const writeBridge = (lid: boolean) => {
    const key = o.emptyStateKey ? '' : `${hs}/whatsapp`;
    model.append(room, { type: 'm.bridge', sender: bot, stateKey: key, ts: ts++, content: bridgeContent(lid) });
    model.append(room, {
      type: 'uk.half-shot.bridge',
      sender: bot,
      stateKey: key,
      ts: ts++,
      content: bridgeContent(lid),
    });
  };
  model.append(room, {
    type: 'm.room.name',
    sender: bot,
    stateKey: '',
    ts: ts++,
    content: { name: o.customer.pushName ?? displayname },
  });
  model.append(room, {
    type: 'm.room.topic',
    sender: bot,
    stateKey: '',
    ts: ts++,
    content: { topic: 'WhatsApp private chat' },
  });
  model.append(room, {
    type: 'io.element.functional_members',
    sender: bot,
    stateKey: '',
    ts: ts++,
    content: { service_members: [bot] },
  });
  writeBridge(o.migrated ? false : useLid);
  const firstGhost = o.migrated ? phoneGhost! : useLid ? lidGhost! : phoneGhost!;
  join(model, room, firstGhost, ts++);
  invite(model, room, bot, o.owner, ts++);
  join(model, room, o.owner, ts++);
  if (o.migrated && lidGhost && phoneGhost) {
    leave(model, room, phoneGhost, ts++, bot, 'Migrating to LIDs');
    join(model, room, lidGhost, ts++);
    writeBridge(true);
  }
  return { room, ghost: useLid ? lidGhost! : phoneGhost!, phoneGhost, bot };
}

/** One of our Wazo portals: our bot created it and wrote `m.bridge` with protocol `wazo`. */
export function wazoPortal(
  model: HomeserverModel,
  o: { bot: string; ghost: string; ghostName: string; staff: string; wazoRoomUuid: string; ts: number },
): FakeRoom {
  if (!model.users.has(o.bot)) addGhost(model, o.bot);
  addGhost(model, o.ghost, { displayname: o.ghostName });
  const room = model.createRoom(o.bot);
  let ts = o.ts;
  model.append(room, {
    type: 'm.bridge',
    sender: o.bot,
    stateKey: `${model.serverName}/wazo`,
    ts: ts++,
    content: {
      bridgebot: o.bot,
      protocol: { id: 'wazo', displayname: 'Wazo' },
      channel: { id: o.wazoRoomUuid, displayname: o.ghostName },
    },
  });
  join(model, room, o.ghost, ts++);
  join(model, room, o.staff, ts++);
  return room;
}

/** A plain room created by `creator` with `others` joined. */
export function plainRoom(
  model: HomeserverModel,
  creator: string,
  others: string[],
  ts: number,
  opts: { encrypted?: boolean; name?: string } = {},
): FakeRoom {
  const room = model.createRoom(creator);
  let t = ts;
  if (opts.name)
    model.append(room, { type: 'm.room.name', sender: creator, stateKey: '', ts: t++, content: { name: opts.name } });
  if (opts.encrypted) {
    model.append(room, {
      type: 'm.room.encryption',
      sender: creator,
      stateKey: '',
      ts: t++,
      content: { algorithm: 'm.megolm.v1.aes-sha2' },
    });
  }
  for (const u of others) join(model, room, u, t++);
  return room;
}

/** An `m.room.encrypted` event (content unreadable for us). */
export function encrypted(model: HomeserverModel, room: FakeRoom, sender: string, ts: number, n: number): FakeEvent {
  return model.append(room, {
    type: 'm.room.encrypted',
    sender,
    ts,
    content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: `AwgAEnAc${n.toString(36)}`, session_id: 'SeSsIoN' },
  });
}

/**
 * Appends `count` alternating messages (customer asks, staff answers) spaced `stepMs` apart from `startTs`,
 * with a deterministic pseudo-random text. Used for the 100,000-event room of the tests and the benchmark.
 */
export function generateConversation(
  model: HomeserverModel,
  room: FakeRoom,
  o: { customer: string; staff: string; count: number; startTs: number; stepMs: number; seed?: number },
): void {
  let x = o.seed ?? 1;
  const words = ['order', 'invoice', 'delivery', 'refund', 'hello', 'thanks', 'broken', 'password', 'account', 'price'];
  for (let i = 0; i < o.count; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const sender = i % 2 === 0 ? o.customer : o.staff;
    const body = `${words[x % words.length]} ${words[(x >> 8) % words.length]} #${i}`;
    model.append(room, {
      type: 'm.room.message',
      sender,
      ts: o.startTs + i * o.stepMs,
      content: { msgtype: 'm.text', body },
    });
  }
}

/** State types a homeserver copies into the replacement room on an upgrade (spec: "Server behaviour"). */
const UPGRADE_COPIED_STATE = [
  'm.room.server_acl',
  'm.room.encryption',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.join_rules',
  'm.room.power_levels',
];

export interface UpgradeOptions {
  ts?: number;
  version?: string;
  /** Users who follow the tombstone into the new room (joined there right after the upgrade). */
  follow?: string[];
  /** Join rule of the new room: `restricted` to the members of the old one (spec "Restricted rooms"). */
  restrictToMembers?: boolean;
  body?: string;
}

/**
 * Upgrades `old` as `POST /rooms/{roomId}/upgrade` does on the server (spec "Room upgrades", server
 * behaviour): a new room whose `m.room.create` names the predecessor, the transferable state copied (not
 * memberships, not bridge state), the `m.room.tombstone` in the old room (sent by `by`, who needs the power
 * to), and the old room's power levels raised so that ordinary members can no longer post.
 */
export function upgradeRoom(
  model: HomeserverModel,
  old: FakeRoom,
  by: string,
  o: UpgradeOptions = {},
): { room: FakeRoom; tombstone: FakeEvent } {
  let ts = o.ts ?? model.clock();
  const lastOld = old.events.at(-1)!;
  const room = model.createRoom(by, {
    version: o.version ?? old.version,
    ts: ts++,
    createContent: { predecessor: { room_id: old.id, event_id: lastOld.event_id } },
  });
  for (const type of UPGRADE_COPIED_STATE) {
    const content = model.stateContent(old, type);
    if (!content) continue;
    const copied =
      type === 'm.room.power_levels'
        ? { ...content, users: { ...((content.users as object) ?? {}), [by]: 100 } }
        : { ...content };
    model.append(room, { type, sender: by, stateKey: '', ts: ts++, content: copied });
  }
  if (o.restrictToMembers) {
    model.append(room, {
      type: 'm.room.join_rules',
      sender: by,
      stateKey: '',
      ts: ts++,
      content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: old.id }] },
    });
  }
  const tombstone = model.append(old, {
    type: 'm.room.tombstone',
    sender: by,
    stateKey: '',
    ts: ts++,
    content: { body: o.body ?? 'This room has been replaced', replacement_room: room.id },
  });
  const pl = model.stateContent(old, 'm.room.power_levels') ?? {};
  const restricted = Math.max(50, Number(pl.users_default ?? 0) + 1);
  model.append(old, {
    type: 'm.room.power_levels',
    sender: by,
    stateKey: '',
    ts: ts++,
    content: { ...pl, events_default: restricted, invite: restricted },
  });
  for (const u of o.follow ?? []) join(model, room, u, ts++);
  return { room, tombstone };
}
