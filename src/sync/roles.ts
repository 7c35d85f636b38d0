/**
 * Who is staff, who is a customer and who is a bot, from an MXID alone (plus the room's own WhatsApp
 * number). Pure: no I/O. Rules, in order: bridge bots → bot; WhatsApp ghosts → customer unless their
 * number is the company's own (`fi.mau.receiver`, `[whatsapp] own_numbers`) → staff; Wazo users linked to
 * a Matrix account (and their ghosts) → staff; our other Wazo ghosts → customer; sync accounts, `[sync] staff` entries and other users of our homeserver → staff; anyone else →
 * customer.
 */
import type { Config } from '../config/index.ts';
import type { SenderRole } from '../db/schema/history.ts';
import { escapeRegex } from '../matrix/index.ts';

export interface RoleRules {
  readonly domain: string;
  readonly whatsappGhost: RegExp;
  readonly whatsappBot: RegExp;
  /** `@<appservice.ghost_prefix>…:<domain>`: our Wazo ghosts. */
  readonly ourGhost: RegExp;
  /** `[appservice] ghost_prefix`: the localpart of a Wazo ghost is this prefix + the Wazo user uuid. */
  readonly ourGhostPrefix: string;
  readonly ourBot: string;
  readonly syncAccounts: ReadonlySet<string>;
  /** Matrix users who linked a Wazo account, and those Wazo users' ghosts (from the bridge tables). */
  readonly linkedUsers: ReadonlySet<string>;
  readonly staffIds: ReadonlySet<string>;
  readonly staffPatterns: readonly RegExp[];
  /** Digits (no `+`) of the company's own WhatsApp numbers. */
  readonly ownNumbers: ReadonlySet<string>;
}

export function buildRoleRules(
  config: Pick<Config, 'homeserver' | 'appservice' | 'whatsapp' | 'sync'>,
  syncAccounts: Iterable<string>,
  linkedUsers: ReadonlySet<string> = new Set(),
): RoleRules {
  const domain = config.homeserver.domain;
  const staffIds = new Set<string>();
  const staffPatterns: RegExp[] = [];
  for (const s of config.sync.staff) {
    const m = /^\/(.*)\/([a-z]*)$/.exec(s);
    if (m) staffPatterns.push(new RegExp(m[1]!, m[2]));
    else staffIds.add(s);
  }
  return {
    domain,
    whatsappGhost: new RegExp(config.whatsapp.ghost_pattern),
    whatsappBot: new RegExp(`^@${escapeRegex(config.whatsapp.bot_localpart)}:`),
    ourGhost: new RegExp(`^@${escapeRegex(config.appservice.ghost_prefix)}[^:]+:${escapeRegex(domain)}$`),
    ourGhostPrefix: config.appservice.ghost_prefix,
    ourBot: `@${config.appservice.bot_localpart}:${domain}`,
    syncAccounts: new Set(syncAccounts),
    linkedUsers,
    staffIds,
    staffPatterns,
    ownNumbers: new Set(config.whatsapp.own_numbers.map((n) => n.replace(/\D/g, ''))),
  };
}

/** What a WhatsApp ghost MXID says about the remote user: phone digits, LID digits, or neither. */
export type GhostId =
  { kind: 'phone'; digits: string } | { kind: 'lid'; digits: string } | { kind: 'other'; remote: string };

/** Parses a WhatsApp ghost MXID, or returns undefined when it is not one. LID digits are never a phone. */
export function whatsappGhostId(rules: RoleRules, mxid: string): GhostId | undefined {
  const m = rules.whatsappGhost.exec(mxid);
  if (!m) return undefined;
  const rest = mxid.slice(m.index + m[0].length);
  const local = rest.split(':')[0] ?? '';
  const phone = /^(\d{6,15})$/.exec(local);
  if (phone) return { kind: 'phone', digits: phone[1]! };
  const lid = /^lid-(\d+)$/.exec(local);
  if (lid) return { kind: 'lid', digits: lid[1]! };
  return { kind: 'other', remote: local };
}

/**
 * The role of `mxid` in a room whose bridged WhatsApp login is `receiver` (digits), if any, and whose own LID
 * (digits) the room revealed (`ownLid`, see `RoomInfo.waOwnLid`): the login's own ghost is staff whether it is
 * its phone-number ghost or its LID ghost (shared/reference/matrix.md §5.3).
 */
export function roleOf(rules: RoleRules, mxid: string, receiver?: string | null, ownLid?: string | null): SenderRole {
  if (mxid === rules.ourBot || rules.whatsappBot.test(mxid)) return 'bot';
  const ghost = whatsappGhostId(rules, mxid);
  if (ghost) {
    if (ghost.kind === 'phone' && (ghost.digits === receiver || rules.ownNumbers.has(ghost.digits))) return 'staff';
    if (ghost.kind === 'lid' && ownLid && ghost.digits === ownLid) return 'staff';
    return 'customer';
  }
  if (rules.linkedUsers.has(mxid)) return 'staff';
  if (rules.ourGhost.test(mxid)) return 'customer';
  if (rules.syncAccounts.has(mxid) || rules.staffIds.has(mxid)) return 'staff';
  if (rules.staffPatterns.some((p) => p.test(mxid))) return 'staff';
  if (mxid.endsWith(`:${rules.domain}`)) return 'staff';
  return 'customer';
}
