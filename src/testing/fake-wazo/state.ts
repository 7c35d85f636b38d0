/**
 * In-memory state of the fake Wazo: users, tokens, refresh tokens, chatd rooms and messages, webhookd
 * subscriptions, and the event bus with chatd's real fan-out (one event per internal participant).
 * Shapes follow the wazo-auth/chatd/confd/webhookd API descriptions (shared/reference/wazo.md).
 */
import { randomUUID } from 'node:crypto';

export interface FakeUser {
  uuid: string;
  username: string;
  password: string;
  firstname: string;
  lastname: string;
  email: string | null;
  mobile_phone_number: string | null;
  /** `user` = PBX user (has a confd user); `external_api` = service account (admin on its tenant). */
  purpose: 'user' | 'external_api';
}

export interface FakeToken {
  token: string;
  userUuid: string;
  expiresAt: number;
  admin: boolean;
  refreshed: boolean;
}

export interface FakeRoom {
  uuid: string;
  tenant_uuid: string;
  name: string | null;
  users: { uuid: string; tenant_uuid: string; wazo_uuid: string; identity: string | null }[];
}

export interface FakeMessage {
  uuid: string;
  content: string;
  alias: string | null;
  user_uuid: string;
  tenant_uuid: string;
  wazo_uuid: string;
  created_at: string;
  room: { uuid: string };
  delivery: { type: 'internal'; backend: null; recipients: [] };
}

export interface FakeSubscription {
  uuid: string;
  name: string;
  service: string;
  events: string[];
  events_user_uuid: string | null;
  events_wazo_uuid: string | null;
  config: Record<string, string>;
  metadata: Record<string, string>;
  owner_tenant_uuid: string;
  owner_user_uuid: string | null;
}

/** A bus event as websocketd forwards it (the wire envelope), with its recipient key. */
export interface BusEvent {
  name: string;
  origin_uuid: string;
  timestamp: string;
  tenant_uuid: string;
  required_acl: string;
  data: unknown;
  recipient: string;
}

export function envelope(e: BusEvent): Record<string, unknown> {
  return {
    name: e.name,
    origin_uuid: e.origin_uuid,
    timestamp: e.timestamp,
    tenant_uuid: e.tenant_uuid,
    [`user_uuid:${e.recipient}`]: true,
    required_acl: e.required_acl,
    required_access: `event.${e.name}`,
    data: e.data,
  };
}

export class FakeWazoState {
  readonly tenantUuid = randomUUID();
  readonly wazoUuid = randomUUID();
  readonly users = new Map<string, FakeUser>();
  readonly tokens = new Map<string, FakeToken>();
  /** `${userUuid}/${clientId}` → refresh token. */
  readonly refreshTokens = new Map<string, string>();
  readonly rooms = new Map<string, FakeRoom>();
  readonly messages: FakeMessage[] = [];
  readonly subscriptions = new Map<string, FakeSubscription>();
  /** Count of logins that sent `Wazo-Session-Type: mobile` (the bridge must never do that). */
  mobileLogins = 0;
  now: () => number;
  #lastCreatedMicros = 0;
  readonly #listeners = new Set<(e: BusEvent) => void>();

  constructor(now: () => number) {
    this.now = now;
  }

  addUser(u: Partial<FakeUser> & { username: string }): FakeUser {
    const user: FakeUser = {
      uuid: u.uuid ?? randomUUID(),
      username: u.username,
      password: u.password ?? 'secret',
      firstname: u.firstname ?? u.username,
      lastname: u.lastname ?? '',
      email: u.email ?? null,
      mobile_phone_number: u.mobile_phone_number ?? null,
      purpose: u.purpose ?? 'user',
    };
    this.users.set(user.uuid, user);
    return user;
  }

  issueToken(userUuid: string, lifetimeS: number, refreshed = false): FakeToken {
    const user = this.users.get(userUuid);
    const t: FakeToken = {
      token: randomUUID(),
      userUuid,
      expiresAt: this.now() + lifetimeS * 1000,
      admin: user?.purpose === 'external_api',
      refreshed,
    };
    this.tokens.set(t.token, t);
    return t;
  }

  /** The live token, or undefined when unknown or expired. */
  validToken(token: string | undefined | null): FakeToken | undefined {
    if (!token) return undefined;
    const t = this.tokens.get(token);
    return t && t.expiresAt > this.now() ? t : undefined;
  }

  /** Expires every token held now (the "token expiry" switch). */
  expireAllTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  /** A strictly increasing chatd-style timestamp (microseconds, `+00:00`). */
  createdAt(): string {
    let micros = this.now() * 1000;
    if (micros <= this.#lastCreatedMicros) micros = this.#lastCreatedMicros + 1;
    this.#lastCreatedMicros = micros;
    const ms = Math.floor(micros / 1000);
    const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.000Z
    return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}+00:00`;
  }

  findRoomBySet(tenant: string, uuids: string[]): FakeRoom | undefined {
    const key = [...uuids].sort().join(',');
    for (const r of this.rooms.values()) {
      if (
        r.tenant_uuid === tenant &&
        r.users
          .map((u) => u.uuid)
          .sort()
          .join(',') === key
      )
        return r;
    }
    return undefined;
  }

  onEvent(fn: (e: BusEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Publishes one event per internal participant, as chatd does (the sender included). */
  publish(name: string, room: FakeRoom, data: unknown, aclTail: string): void {
    const events: BusEvent[] = [];
    for (const u of room.users) {
      if (u.identity) continue;
      events.push({
        name,
        origin_uuid: this.wazoUuid,
        timestamp: new Date(this.now()).toISOString(),
        tenant_uuid: room.tenant_uuid,
        required_acl: `events.chatd.users.${u.uuid}.${aclTail}`,
        data,
        recipient: u.uuid,
      });
    }
    for (const e of events) for (const l of this.#listeners) l(e);
  }
}
