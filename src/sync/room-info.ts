/**
 * Channel detection from a room's current state. Pure: no I/O.
 * WhatsApp: an `m.bridge` / `uk.half-shot.bridge` event with `protocol.id = "whatsapp"` (matched on content,
 * not on the state key), or a member matching the WhatsApp ghost pattern. Wazo: our `m.bridge` (protocol
 * `wazo`, or bridge bot = our bot). Anything else: a plain Matrix room.
 */
import type { Channel } from '../db/schema/history.ts';
import { type RoleRules, roleOf, whatsappGhostId } from './roles.ts';

/** A Client-Server event as the homeserver returns it (only the fields we read). */
export interface ClientEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
  unsigned?: Record<string, unknown>;
}

export interface MemberState {
  membership: string;
  displayName: string | null;
}

export interface RoomInfo {
  channel: Channel;
  name: string | null;
  isDirect: boolean;
  encrypted: boolean;
  /** `m.bridge` `channel.id`: WhatsApp JID or Wazo room uuid. */
  remoteChannelId: string | null;
  /** `channel["fi.mau.receiver"]`: digits of the bridged login's own number. */
  waReceiver: string | null;
  /**
   * Digits of the bridged login's own LID, when the room shows it: in a direct chat keyed by the customer's
   * LID (`channel.id` `<lid>@lid`), another LID ghost can only be the login's own, which mautrix-whatsapp
   * sends the messages written on the phone as when there is no double puppeting.
   */
  waOwnLid?: string | null;
  /** Current members (any membership) with their display names. */
  members: Map<string, MemberState>;
  /** The room's own state names its bridge (`m.bridge` / `uk.half-shot.bridge` for WhatsApp or Wazo). */
  bridged: boolean;
  /** Set when channel and bridge facts come from the room this one replaced (see {@link inheritRoomInfo}). */
  inheritedFrom: string | null;
}

/** What a room's successor may take over from it (a stored `history_rooms` row, or this run's description). */
export type InheritableInfo = Pick<RoomInfo, 'channel' | 'name' | 'isDirect' | 'remoteChannelId' | 'waReceiver'>;

/**
 * The info of a room that replaced `predecessorId` (room upgrade). Homeservers copy names, topics and power
 * levels into the new room but not bridge state, so a successor whose own state names no bridge, and that is
 * a plain Matrix room or of the predecessor's channel, takes the predecessor's channel, bridge channel id,
 * WhatsApp receiver (whose ghost is staff) and direct/group flag; its name when it has none. A successor
 * that names its own bridge keeps everything it says.
 */
export function inheritRoomInfo(info: RoomInfo, base: InheritableInfo, predecessorId: string): RoomInfo {
  const out: RoomInfo = { ...info, name: info.name ?? base.name };
  if (info.bridged || base.channel === 'matrix' || (info.channel !== 'matrix' && info.channel !== base.channel))
    return out;
  return {
    ...out,
    channel: base.channel,
    isDirect: base.isDirect,
    remoteChannelId: info.remoteChannelId ?? base.remoteChannelId,
    waReceiver: base.channel === 'whatsapp' ? (info.waReceiver ?? base.waReceiver) : null,
    inheritedFrom: predecessorId,
  };
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** `ourPortal`: the room is in our bridge's `portals` table. */
export function describeRoom(state: readonly ClientEvent[], rules: RoleRules, ourPortal = false): RoomInfo {
  const members = new Map<string, MemberState>();
  let name: string | undefined;
  let encrypted = false;
  let bridge: Record<string, unknown> | undefined;
  let ours = ourPortal;
  for (const ev of state) {
    if (ev.type === 'm.room.member' && typeof ev.state_key === 'string') {
      members.set(ev.state_key, {
        membership: str(ev.content.membership) ?? 'leave',
        displayName: str(ev.content.displayname) ?? null,
      });
    } else if (ev.type === 'm.room.name') name = str(ev.content.name);
    else if (ev.type === 'm.room.encryption') encrypted = true;
    else if (ev.type === 'm.bridge' || ev.type === 'uk.half-shot.bridge') {
      const protocol = str(obj(ev.content.protocol)?.id);
      if (protocol === 'whatsapp' || protocol === 'wazo') bridge ??= ev.content;
      if (protocol === 'wazo' || ev.content.bridgebot === rules.ourBot) ours = true;
    }
  }
  const protocol = str(obj(bridge?.protocol)?.id);
  const channelInfo = obj(bridge?.channel);
  const remoteChannelId = str(channelInfo?.id) ?? null;
  const waReceiver = str(channelInfo?.['fi.mau.receiver'])?.replace(/\D/g, '') || null;
  let channel: Channel = 'matrix';
  if (protocol === 'whatsapp' || [...members.keys()].some((m) => rules.whatsappGhost.test(m))) channel = 'whatsapp';
  else if (ours) channel = 'wazo';
  let isDirect = false;
  let waOwnLid: string | null = null;
  if (channel === 'whatsapp' && bridge) {
    isDirect =
      bridge['com.beeper.room_type'] === 'dm' ||
      (remoteChannelId !== null && (remoteChannelId.endsWith('@s.whatsapp.net') || remoteChannelId.endsWith('@lid')));
    const customerLid = /^(\d+)@lid$/.exec(remoteChannelId ?? '')?.[1];
    if (isDirect && customerLid) {
      const others = new Set<string>();
      for (const m of members.keys()) {
        const g = whatsappGhostId(rules, m);
        if (g?.kind === 'lid' && g.digits !== customerLid) others.add(g.digits);
      }
      if (others.size === 1) waOwnLid = [...others][0]!;
    }
  }
  const humans = [...members].filter(
    ([m, s]) => s.membership === 'join' && roleOf(rules, m, waReceiver, waOwnLid) !== 'bot',
  ).length;
  if (!(channel === 'whatsapp' && bridge)) isDirect = humans <= 2;
  return {
    channel,
    name: name ?? str(channelInfo?.displayname) ?? null,
    isDirect,
    encrypted,
    remoteChannelId,
    waReceiver: channel === 'whatsapp' ? waReceiver : null,
    waOwnLid: channel === 'whatsapp' ? waOwnLid : null,
    members,
    bridged: bridge !== undefined,
    inheritedFrom: null,
  };
}
