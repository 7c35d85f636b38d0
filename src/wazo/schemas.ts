/**
 * zod schemas of the Wazo payloads the connector reads, written from the wazo-chatd, wazo-auth, wazo-confd and
 * wazo-webhookd API descriptions (reference: shared/reference/wazo.md §2–§9). Unknown keys are kept out
 * (zod strips them) so that newer Wazo versions adding fields do not break us.
 */
import { z } from 'zod';

const uuid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a uuid');

export const roomUserSchema = z.object({
  uuid,
  tenant_uuid: z.string().nullish(),
  wazo_uuid: z.string().nullish(),
  identity: z.string().nullish(),
});

export const roomSchema = z.object({
  uuid,
  tenant_uuid: z.string().nullish(),
  name: z.string().nullish(),
  users: z.array(roomUserSchema).max(100),
});
export type WazoRoom = z.output<typeof roomSchema>;

export const messageSchema = z.object({
  uuid,
  content: z.string(),
  alias: z.string().nullish(),
  user_uuid: uuid,
  tenant_uuid: z.string().nullish(),
  wazo_uuid: z.string().nullish(),
  created_at: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO 8601 date'),
  room: z.object({ uuid }),
});
export type WazoMessage = z.output<typeof messageSchema>;

export const roomListSchema = z.object({
  items: z.array(roomSchema),
  filtered: z.number().optional(),
  total: z.number().optional(),
});
export const messageListSchema = z.object({
  items: z.array(messageSchema),
  filtered: z.number().optional(),
  total: z.number().optional(),
});

export const tokenSchema = z.object({
  data: z.object({
    token: z.string().min(1),
    expires_at: z.string().nullish(),
    utc_expires_at: z.string().nullish(),
    utc_issued_at: z.string().nullish(),
    session_uuid: z.string().nullish(),
    auth_id: z.string().nullish(),
    xivo_user_uuid: z.string().nullish(),
    refresh_token: z.string().nullish(),
    acl: z.array(z.string()).optional(),
    metadata: z
      .object({
        uuid: z.string().nullish(),
        tenant_uuid: z.string().nullish(),
        pbx_user_uuid: z.string().nullish(),
        purpose: z.string().nullish(),
      })
      .nullish(),
  }),
});
export type WazoToken = z.output<typeof tokenSchema>['data'];

export const confdUserSchema = z.object({
  uuid,
  firstname: z.string().nullish(),
  lastname: z.string().nullish(),
  email: z.string().nullish(),
  username: z.string().nullish(),
  mobile_phone_number: z.string().nullish(),
});
export type ConfdUser = z.output<typeof confdUserSchema>;
export const confdUserListSchema = z.object({ total: z.number().optional(), items: z.array(confdUserSchema) });

export const subscriptionSchema = z.object({
  uuid,
  name: z.string(),
  service: z.string(),
  events: z.array(z.string()),
  config: z.record(z.string(), z.string().nullish()),
  metadata: z.record(z.string(), z.string()).nullish(),
  events_user_uuid: z.string().nullish(),
});
export type WazoSubscription = z.output<typeof subscriptionSchema>;
export const subscriptionListSchema = z.object({ items: z.array(subscriptionSchema), total: z.number().optional() });

/** The two bus events the bridge consumes, keyed by name. */
export const CHAT_EVENTS = ['chatd_user_room_message_created', 'chatd_user_room_created'] as const;
export type ChatEventName = (typeof CHAT_EVENTS)[number];

export type WazoChatEvent =
  | { name: 'chatd_user_room_message_created'; recipient: string | undefined; data: WazoMessage }
  | { name: 'chatd_user_room_created'; recipient: string | undefined; data: WazoRoom };

/**
 * Parses one chat event from either feed's shape: the websocketd/bus envelope (`{name, data, "user_uuid:<x>": true}`)
 * or the webhook body our subscription template renders (`{event, data}`). Returns a tagged result.
 */
export function parseChatEvent(
  raw: unknown,
): { ok: true; event: WazoChatEvent } | { ok: false; reason: 'unknown-event' | 'invalid'; detail: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'invalid', detail: 'not an object' };
  const obj = raw as Record<string, unknown>;
  const name = typeof obj.name === 'string' ? obj.name : typeof obj.event === 'string' ? obj.event : undefined;
  if (name === undefined) {
    // webhookd's default body (no template) is the bare `data` object: recognise a message by its shape.
    const bare = messageSchema.safeParse(obj);
    if (bare.success)
      return { ok: true, event: { name: 'chatd_user_room_message_created', recipient: undefined, data: bare.data } };
    return { ok: false, reason: 'invalid', detail: 'missing event name' };
  }
  let recipient: string | undefined;
  for (const k of Object.keys(obj)) {
    if (k.startsWith('user_uuid:') && obj[k] === true) recipient = k.slice('user_uuid:'.length);
  }
  if (name === 'chatd_user_room_message_created') {
    const r = messageSchema.safeParse(obj.data);
    if (!r.success) return { ok: false, reason: 'invalid', detail: z.prettifyError(r.error) };
    return { ok: true, event: { name, recipient, data: r.data } };
  }
  if (name === 'chatd_user_room_created') {
    const r = roomSchema.safeParse(obj.data);
    if (!r.success) return { ok: false, reason: 'invalid', detail: z.prettifyError(r.error) };
    return { ok: true, event: { name, recipient, data: r.data } };
  }
  return { ok: false, reason: 'unknown-event', detail: name.slice(0, 128) };
}

export const wazoErrorSchema = z.object({
  message: z.string().optional(),
  error_id: z.string().optional(),
  details: z.unknown().optional(),
});
