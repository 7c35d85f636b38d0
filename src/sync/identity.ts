/**
 * Customer identity of a room. Pure apart from the injected profile lookup (`GET /profile/{userId}`).
 *
 * WhatsApp phone number search order for a customer ghost (issue 5 §2):
 *   1. a phone-number ghost `@<prefix><digits>` (digits = the number);
 *   2. the ghost's profile field `com.beeper.bridge.identifiers` (`tel:+…`);
 *   3. for a DM, `channel.id` of the form `<digits>@s.whatsapp.net`;
 *   4. a display name `+<number> (WA)`, or any display name holding a valid number (libphonenumber-js);
 *   5. for a DM, an earlier phone-number ghost in the room's membership history (LID migration).
 * LID digits (`@<prefix>lid-<digits>`) are never a phone number: they are kept as `wa_lid`.
 * Without a number the customer is keyed by the ghost MXID and the room is flagged "no phone number".
 */
import { findPhoneNumbersInText, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Channel, SenderRole } from '../db/schema/history.ts';
import type { RoomInfo } from './room-info.ts';
import { type RoleRules, roleOf, whatsappGhostId } from './roles.ts';

export interface CustomerRecord {
  key: string;
  channel: Channel;
  phone: string | null;
  mxid: string | null;
  name: string | null;
  email?: string | null;
  wazoUserUuid: string | null;
  waLid: string | null;
}

export interface Participant {
  userId: string;
  role: SenderRole;
  customerKey: string | null;
  displayName: string | null;
}

export interface RoomIdentity {
  customers: CustomerRecord[];
  participants: Participant[];
  /** The room's customer (DMs, or a room with a single customer); null for groups with several. */
  customerKey: string | null;
  noPhoneNumber: boolean;
}

export interface MembershipRecord {
  userId: string;
  membership: string;
  displayName: string | null;
}

export type ProfileLookup = (userId: string) => Promise<Record<string, unknown> | undefined>;

/** Our ghosts' profiles as the bridge fetched them from Wazo (bridge `ghosts` table), by MXID. */
export type GhostProfiles = ReadonlyMap<string, { name: string | null; email: string | null; phone: string | null }>;

const E164 = /^\+[1-9]\d{5,14}$/;

/** A phone number found in free text (display name), as E.164, when libphonenumber-js deems it valid. */
export function phoneFromText(text: string | null | undefined): string | null {
  if (!text) return null;
  const wa = /^\+(\d{6,15}) \(WA\)$/.exec(text);
  if (wa) return `+${wa[1]}`;
  for (const found of findPhoneNumbersInText(text)) {
    if (found.number.isValid()) return found.number.number;
  }
  return null;
}

/** E.164 from `com.beeper.bridge.identifiers` values such as `tel:+4915112345678`. */
export function phoneFromIdentifiers(value: unknown): string | null {
  if (!Array.isArray(value)) return null;
  for (const v of value) {
    if (typeof v !== 'string' || !v.startsWith('tel:')) continue;
    const parsed = parsePhoneNumberFromString(v.slice(4));
    if (parsed?.isValid()) return parsed.number;
    if (E164.test(v.slice(4))) return v.slice(4);
  }
  return null;
}

const cleanName = (n: string | null) => (n ? n.replace(/ \(WA\)$/, '') : null);

export async function resolveIdentity(
  info: RoomInfo,
  rules: RoleRules,
  history: readonly MembershipRecord[],
  profile: ProfileLookup,
  ghostProfiles: GhostProfiles = new Map(),
): Promise<RoomIdentity> {
  // Everyone ever seen: current state first, then earlier members from the timeline.
  const names = new Map<string, string | null>();
  for (const [u, s] of info.members) names.set(u, s.displayName);
  for (const h of history) if (!names.has(h.userId)) names.set(h.userId, h.displayName);
  const participants: Participant[] = [...names].map(([userId, displayName]) => ({
    userId,
    role: roleOf(rules, userId, info.waReceiver, info.waOwnLid),
    customerKey: null,
    displayName,
  }));
  const customerSide = participants.filter((p) => p.role === 'customer');
  const joined = (u: string) => info.members.get(u)?.membership === 'join';
  const customers = new Map<string, CustomerRecord>();
  let noPhone = false;

  if (info.channel === 'whatsapp') {
    const ghosts = customerSide.filter((p) => whatsappGhostId(rules, p.userId));
    const phoneOf = async (p: Participant, dm: boolean): Promise<string | null> => {
      const id = whatsappGhostId(rules, p.userId)!;
      if (id.kind === 'phone') return `+${id.digits}`;
      const fromProfile = phoneFromIdentifiers((await profile(p.userId))?.['com.beeper.bridge.identifiers']);
      if (fromProfile) return fromProfile;
      const jid = dm ? /^(\d{6,15})@s\.whatsapp\.net$/.exec(info.remoteChannelId ?? '') : null;
      if (jid) return `+${jid[1]}`;
      const fromName = phoneFromText(p.displayName);
      if (fromName) return fromName;
      if (dm) {
        for (const h of history) {
          const g = whatsappGhostId(rules, h.userId);
          if (g?.kind === 'phone' && roleOf(rules, h.userId, info.waReceiver, info.waOwnLid) === 'customer')
            return `+${g.digits}`;
        }
      }
      return null;
    };
    if (info.isDirect && ghosts.length > 0) {
      // One customer: the joined ghost (after a LID migration, the LID one); earlier ghosts map to it too.
      const main =
        ghosts.find((g) => joined(g.userId) && whatsappGhostId(rules, g.userId)!.kind === 'lid') ??
        ghosts.find((g) => joined(g.userId)) ??
        ghosts[0]!;
      const phone = await phoneOf(main, true);
      const lid = ghosts.map((g) => whatsappGhostId(rules, g.userId)!).find((g) => g.kind === 'lid');
      const key = phone ? `tel:${phone}` : `mxid:${main.userId}`;
      noPhone = phone === null;
      customers.set(key, {
        key,
        channel: 'whatsapp',
        phone,
        mxid: main.userId,
        name: cleanName(main.displayName),
        wazoUserUuid: null,
        waLid: lid?.kind === 'lid' ? lid.digits : null,
      });
      for (const g of ghosts) g.customerKey = key;
    } else {
      for (const g of ghosts) {
        const phone = await phoneOf(g, false);
        const id = whatsappGhostId(rules, g.userId)!;
        const key = phone ? `tel:${phone}` : `mxid:${g.userId}`;
        if (!phone) noPhone = true;
        customers.set(key, {
          key,
          channel: 'whatsapp',
          phone,
          mxid: g.userId,
          name: cleanName(g.displayName),
          wazoUserUuid: null,
          waLid: id.kind === 'lid' ? id.digits : null,
        });
        g.customerKey = key;
      }
    }
    // Customer-side members that are not WhatsApp ghosts (e.g. a remote Matrix user in a group).
    for (const p of customerSide) if (!p.customerKey) assignMxid(p, 'whatsapp', customers);
  } else if (info.channel === 'wazo') {
    for (const p of customerSide) {
      if (rules.ourGhost.test(p.userId)) {
        const uuid = p.userId.slice(1 + rules.ourGhostPrefix.length, p.userId.indexOf(':'));
        const key = `wazo:${uuid}`;
        // The bridge keeps the Wazo user's profile (from confd) on its ghost row: name, e-mail, phone.
        const known = ghostProfiles.get(p.userId);
        const phone = known?.phone ? (parsePhoneNumberFromString(known.phone)?.number ?? null) : null;
        customers.set(key, {
          key,
          channel: 'wazo',
          phone,
          mxid: p.userId,
          name: known?.name ?? p.displayName,
          email: known?.email ?? null,
          wazoUserUuid: uuid,
          waLid: null,
        });
        p.customerKey = key;
      } else assignMxid(p, 'wazo', customers);
    }
    if (customers.size === 0 && info.remoteChannelId) {
      const key = `wazo:${info.remoteChannelId}`;
      customers.set(key, {
        key,
        channel: 'wazo',
        phone: null,
        mxid: null,
        name: info.name,
        wazoUserUuid: info.remoteChannelId,
        waLid: null,
      });
    }
  } else {
    for (const p of customerSide) assignMxid(p, 'matrix', customers);
  }
  const keys = [...customers.keys()];
  return {
    customers: [...customers.values()],
    participants,
    customerKey: keys.length === 1 ? keys[0]! : null,
    noPhoneNumber: noPhone,
  };
}

function assignMxid(p: Participant, channel: Channel, customers: Map<string, CustomerRecord>) {
  const key = `mxid:${p.userId}`;
  customers.set(key, {
    key,
    channel,
    phone: null,
    mxid: p.userId,
    name: p.displayName,
    wazoUserUuid: null,
    waLid: null,
  });
  p.customerKey = key;
}

/** What the replaced room's stored identity says (its `history_rooms` row and participants). */
export interface PredecessorIdentity {
  customerKey: string | null;
  noPhoneNumber: boolean;
  /** Customer key of each customer-side participant of the old room, by MXID. */
  customerOf: ReadonlyMap<string, string>;
}

/**
 * The identity of a room that replaced another (room upgrade), where the new room alone cannot determine it:
 * - a WhatsApp customer keyed by the fallback `mxid:<ghost>` (no number found in the new room, whose
 *   membership history starts at the upgrade) takes the key the old room found for the same ghost;
 * - a room with nobody on the customer side yet (the customer has not joined the new room) takes the old
 *   room's customer.
 * Anything the new room determines itself (a phone number, a Wazo user, a remote Matrix user) is kept.
 */
export function inheritIdentity(own: RoomIdentity, pred: PredecessorIdentity): RoomIdentity {
  if (own.customers.length === 0 && own.customerKey === null) {
    if (pred.customerKey === null) return own;
    return { ...own, customerKey: pred.customerKey, noPhoneNumber: pred.noPhoneNumber };
  }
  const byKey = new Map(own.customers.map((c) => [c.key, c]));
  let replaced = false;
  const participants = own.participants.map((p) => {
    const theirs = p.role === 'customer' ? pred.customerOf.get(p.userId) : undefined;
    const record = p.customerKey === null ? undefined : byKey.get(p.customerKey);
    const fallback = record?.channel === 'whatsapp' && record.phone === null && p.customerKey === `mxid:${p.userId}`;
    if (!theirs || !fallback || theirs.startsWith('mxid:')) return p;
    replaced = true;
    return { ...p, customerKey: theirs };
  });
  if (!replaced) return own;
  const used = new Set(participants.map((p) => p.customerKey));
  // A fallback record nobody maps to any more is dropped; the inherited key's row exists (the old room's).
  const customers = own.customers.filter((c) => used.has(c.key) || !c.key.startsWith('mxid:'));
  const keys = new Set([
    ...customers.map((c) => c.key),
    ...participants.flatMap((p) => (p.customerKey ? [p.customerKey] : [])),
  ]);
  return {
    customers,
    participants,
    customerKey: keys.size === 1 ? [...keys][0]! : null,
    // Still "no number" only if a WhatsApp customer kept a fallback key.
    noPhoneNumber: customers.some((c) => c.channel === 'whatsapp' && c.phone === null),
  };
}
