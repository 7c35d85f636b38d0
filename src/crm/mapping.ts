/**
 * Pure conversions from our rows to Twenty payloads: people, conversations, follow-up tasks, and the
 * content hash that decides whether a record needs sending. No network, database or clock in here.
 */
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { v5 as uuidv5 } from 'uuid';
import { INTENTS, LANGUAGES } from './model.ts';

/** Namespace of our deterministic record ids (UUIDv5 of `<kind>:<local key>`). */
export const ID_NAMESPACE = '5b6c1a8e-3f0d-5a8e-9b1e-6d2f4c7a9e10';

export function recordId(kind: 'person' | 'conversation' | 'task' | 'taskTarget', localKey: string): string {
  return uuidv5(`${kind}:${localKey}`, ID_NAMESPACE);
}

/** Stable JSON (sorted keys) → sha256, shortened. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 32);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export interface CustomerRow {
  key: string;
  channel: string;
  phone: string | null;
  mxid: string | null;
  name: string | null;
  email: string | null;
}

export interface NormalisedPhone {
  /** National significant number, as Twenty stores it (`612345678`). */
  number: string;
  /** `+33`. */
  callingCode: string;
  /** ISO country (`FR`), empty when the calling code is shared and the number does not say. */
  country: string;
  /** `+33612345678`. */
  e164: string;
}

/**
 * Parses a phone number as Twenty's record transformer does (libphonenumber): E.164 in, national number
 * + calling code + country out. WhatsApp JIDs (`<digits>@s.whatsapp.net`) and bare digits get a `+`.
 */
export function normalisePhone(raw: string | null | undefined): NormalisedPhone | undefined {
  if (!raw) return undefined;
  let text = raw.trim().replace(/@s\.whatsapp\.net$/, '');
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  if (/^\d{6,15}$/.test(text)) text = `+${text}`;
  const parsed = parsePhoneNumberFromString(text);
  if (!parsed?.isValid()) return undefined;
  return {
    number: parsed.nationalNumber,
    callingCode: `+${parsed.countryCallingCode}`,
    country: parsed.country ?? '',
    e164: parsed.number,
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normaliseEmail(raw: string | null | undefined): string | undefined {
  const e = raw?.trim().toLowerCase();
  return e && EMAIL.test(e) ? e : undefined;
}

/** `"Ana Lima (WA)"` → `{ firstName: 'Ana', lastName: 'Lima' }`. */
export function splitName(raw: string | null | undefined): { firstName: string; lastName: string } {
  const name = (raw ?? '')
    .replace(/\s*\(WA\)\s*$/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!name) return { firstName: '', lastName: '' };
  const i = name.indexOf(' ');
  return i < 0 ? { firstName: name, lastName: '' } : { firstName: name.slice(0, i), lastName: name.slice(i + 1) };
}

export interface PersonEnrichment {
  lastContactAt: string;
  averageSentiment: number;
  conversationCount: number;
  channels: string[];
}

/** The person payload (without `id`): e-mail only when known and valid, never `""`. */
export function personPayload(
  c: CustomerRow,
  enrich: PersonEnrichment | undefined,
  usableEnrich: Set<string>,
): Record<string, unknown> {
  const phone = normalisePhone(c.phone);
  const email = normaliseEmail(c.email);
  let name = splitName(c.name);
  if (!name.firstName && !name.lastName) name = { firstName: phone?.e164 ?? email ?? c.mxid ?? c.key, lastName: '' };
  const out: Record<string, unknown> = { name };
  if (email) out.emails = { primaryEmail: email, additionalEmails: null };
  if (phone) {
    out.phones = {
      primaryPhoneNumber: phone.number,
      primaryPhoneCallingCode: phone.callingCode,
      primaryPhoneCountryCode: phone.country,
      additionalPhones: null,
    };
  }
  if (enrich) for (const [k, v] of Object.entries(enrich)) if (usableEnrich.has(k)) out[k] = v;
  return out;
}

export interface ConversationInput {
  id: string;
  roomId: string;
  channel: string;
  customerKey: string | null;
  customerName: string | null;
  startedAt: number;
  lastMessageAt: number;
  messageCount: number;
  customerMessageCount: number;
  agentMessageCount: number;
  firstResponseSeconds: number | null;
  resolutionSeconds: number | null;
  status: string;
  agents: string[];
  sentimentLabel: string;
  sentimentScore: number;
  intentLabel: string;
  intents: string[];
  keywords: string[];
  language: string;
  /** Recent customer message texts, oldest first (only read when excerpts are exported). */
  excerpt: string[];
  /** Intent of the customer's latest message, when classified (`praise`/`greeting` = a closing word). */
  lastCustomerIntent?: string | null;
}

export function matrixLink(roomId: string): string {
  return `https://matrix.to/#/${encodeURIComponent(roomId)}`;
}

const CHANNEL_LABEL: Record<string, string> = { whatsapp: 'WhatsApp', wazo: 'Wazo', matrix: 'Matrix' };
const selectIntent = (i: string) => (INTENTS.includes(i) ? i.toUpperCase() : 'OTHER');

/** Excerpt text, ≤ 500 chars, from the last customer messages. */
export function excerptText(lines: string[]): string {
  const text = lines
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join(' / ');
  return text.length > 500 ? `${text.slice(0, 497)}…` : text;
}

export function summaryMarkdown(c: ConversationInput, withExcerpt: boolean): string {
  const lines = [
    `**${CHANNEL_LABEL[c.channel] ?? c.channel}** conversation · ${c.status.toLowerCase().replace(/_/g, ' ')}`,
    `- Sentiment: ${c.sentimentLabel} (${c.sentimentScore.toFixed(2)})`,
    `- Intent: ${c.intentLabel}${c.intents.length > 1 ? ` (also ${c.intents.filter((i) => i !== c.intentLabel).join(', ')})` : ''}`,
    `- Messages: ${c.messageCount} (${c.customerMessageCount} customer, ${c.agentMessageCount} agent)`,
  ];
  if (c.firstResponseSeconds !== null) lines.push(`- First response: ${Math.round(c.firstResponseSeconds)} s`);
  if (c.keywords.length > 0) lines.push(`- Keywords: ${c.keywords.slice(0, 10).join(', ')}`);
  const excerpt = withExcerpt ? excerptText(c.excerpt) : '';
  if (excerpt) lines.push('', `> ${excerpt}`);
  lines.push('', `[Open in Matrix](${matrixLink(c.roomId)})`);
  return lines.join('\n');
}

/** The conversation payload (without `id`), restricted to the fields usable on this workspace. */
export function conversationPayload(
  c: ConversationInput,
  personId: string | null,
  usable: Set<string>,
  opts: { exportExcerpts: boolean },
): Record<string, unknown> {
  const who = c.customerName ? splitName(c.customerName) : undefined;
  const all: Record<string, unknown> = {
    name: `${CHANNEL_LABEL[c.channel] ?? c.channel} · ${who ? `${who.firstName} ${who.lastName}`.trim() : (c.customerKey ?? c.roomId)} · ${new Date(c.startedAt).toISOString().slice(0, 10)}`,
    conversationKey: c.id,
    matrixRoomId: c.roomId,
    channel: c.channel.toUpperCase(),
    sentiment: c.sentimentLabel.toUpperCase(),
    sentimentScore: Math.round(c.sentimentScore * 1000) / 1000,
    intent: selectIntent(c.intentLabel),
    intents: [...new Set(c.intents.map(selectIntent))],
    keywords: c.keywords.slice(0, 20),
    language: LANGUAGES.includes(c.language) ? c.language.toUpperCase() : 'OTHER',
    messageCount: c.messageCount,
    customerMessageCount: c.customerMessageCount,
    agentMessageCount: c.agentMessageCount,
    startedAt: new Date(c.startedAt).toISOString(),
    lastMessageAt: new Date(c.lastMessageAt).toISOString(),
    firstResponseSeconds: c.firstResponseSeconds,
    resolutionSeconds: c.resolutionSeconds,
    status: c.status,
    summary: { markdown: summaryMarkdown(c, opts.exportExcerpts) },
    matrixLink: { primaryLinkUrl: matrixLink(c.roomId), primaryLinkLabel: 'Open in Matrix', secondaryLinks: null },
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) if (k === 'name' || usable.has(k)) out[k] = v;
  if (usable.has('person')) out.personId = personId;
  return out;
}

export interface FollowUpRules {
  negativeThreshold: number;
  unansweredAfterMs: number;
}

const ACTION_INTENTS = ['complaint', 'cancellation', 'billing'];

/** Why a conversation needs a follow-up task (empty = it does not). */
export function followUpReasons(c: ConversationInput, now: number, rules: FollowUpRules): string[] {
  const reasons: string[] = [];
  if (c.sentimentLabel === 'negative' && c.sentimentScore < rules.negativeThreshold) reasons.push('negative sentiment');
  // The conversation's own intent, not every intent seen in passing: one irritated line in a conversation
  // about opening hours does not make it a complaint to follow up.
  if ((ACTION_INTENTS as readonly string[]).includes(c.intentLabel)) reasons.push(`${c.intentLabel} intent`);
  // Waiting on staff, unless the customer's last word was only thanks or goodbye.
  const closing = c.lastCustomerIntent === 'praise' || c.lastCustomerIntent === 'greeting';
  if (c.status === 'OPEN' && !closing && now - c.lastMessageAt > rules.unansweredAfterMs)
    reasons.push('customer waiting for an answer');
  return reasons;
}

export function taskPayload(
  c: ConversationInput,
  reasons: string[],
  opts: { dueAfterMs: number; exportExcerpts: boolean; assigneeId: string | undefined; bodyField: boolean },
): Record<string, unknown> {
  const who = c.customerName
    ? `${splitName(c.customerName).firstName} ${splitName(c.customerName).lastName}`.trim()
    : (c.customerKey ?? 'customer');
  const body = [
    `Follow up with **${who}** on ${CHANNEL_LABEL[c.channel] ?? c.channel}: ${reasons.join(', ')}.`,
    '',
    `- Sentiment: ${c.sentimentLabel} (${c.sentimentScore.toFixed(2)}); intent: ${c.intentLabel}`,
    `- Last message: ${new Date(c.lastMessageAt).toISOString()}`,
  ];
  const excerpt = opts.exportExcerpts ? excerptText(c.excerpt) : '';
  if (excerpt) body.push('', `> ${excerpt}`);
  body.push('', `[Open the conversation in Matrix](${matrixLink(c.roomId)})`);
  const out: Record<string, unknown> = {
    title: `Follow up: ${who} (${reasons[0]})`,
    dueAt: new Date(c.lastMessageAt + opts.dueAfterMs).toISOString(),
  };
  if (opts.bodyField) out.bodyV2 = { markdown: body.join('\n') };
  if (opts.assigneeId) out.assigneeId = opts.assigneeId;
  return out;
}
