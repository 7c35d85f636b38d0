/**
 * In-memory state of the fake homeserver: users, rooms with their timelines and current state, transaction
 * caches, and appservice registrations. The HTTP layer (app.ts) translates spec requests into calls here.
 * Behaviour follows the Matrix spec v1.19 and Synapse where the spec leaves room (noted inline).
 */
import { createHash } from 'node:crypto';

export interface FakeEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
  unsigned?: Record<string, unknown>;
  /** Global stream position (order of arrival on the server). */
  stream: number;
}

export interface FakeRoom {
  id: string;
  version: string;
  creator: string;
  /** Timeline in stream order (what /messages pages through). */
  events: FakeEvent[];
  /** Current state: `${type}\u0000${stateKey}` → event. */
  state: Map<string, FakeEvent>;
  aliases: string[];
  /**
   * Number of leading timeline events removed by a history purge (Synapse's purge admin API or a retention
   * policy): they are no longer served by `/messages` or `/event`; the current state stays.
   */
  purged: number;
}

export interface FakeUser {
  userId: string;
  /** Profile fields: displayname, avatar_url and custom keys (v1.16). */
  profile: Record<string, unknown>;
  /** Appservice id that registered (owns) this user, if any. */
  appservice?: string;
}

/** The registration of an appservice loaded by the fake (same fields as the YAML file). */
export interface AppserviceRegistration {
  id: string;
  url: string | null;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  namespaces: {
    users?: { regex: string; exclusive: boolean }[];
    aliases?: { regex: string; exclusive: boolean }[];
    rooms?: { regex: string; exclusive: boolean }[];
  };
  rate_limited?: boolean;
  receive_ephemeral?: boolean;
}

export class HomeserverModel {
  readonly serverName: string;
  readonly users = new Map<string, FakeUser>();
  readonly rooms = new Map<string, FakeRoom>();
  readonly aliases = new Map<string, string>();
  /** Access token → user id, for ordinary (non-appservice) users. */
  readonly userTokens = new Map<string, string>();
  readonly appservices: AppserviceRegistration[] = [];
  /** Synapse keys appservice send txns by (path, appservice id), ignoring the query string. */
  readonly txnCache = new Map<string, { event_id: string }>();
  readonly media = new Map<string, { contentType: string; bytes: Uint8Array; filename?: string }>();
  /** Listeners called for every new event (the appservice pusher subscribes). */
  readonly listeners: ((ev: FakeEvent) => void)[] = [];
  /**
   * Room version of rooms created without `room_version` (Synapse's `default_room_version`). From version 12
   * (MSC4289, spec v1.16) the creators have infinite power and must not appear in the power levels' `users`.
   */
  defaultRoomVersion = '11';
  #stream = 0;
  #counter = 0;
  clock: () => number;

  constructor(serverName: string, clock: () => number = Date.now) {
    this.serverName = serverName;
    this.clock = clock;
  }

  /** Creates a real (non-appservice) user with an access token; returns the token. */
  addUser(localpart: string, opts: { displayname?: string; token?: string } = {}): { userId: string; token: string } {
    const userId = `@${localpart}:${this.serverName}`;
    const token = opts.token ?? `syt_${localpart}_${createHash('sha256').update(userId).digest('hex').slice(0, 16)}`;
    this.users.set(userId, { userId, profile: opts.displayname ? { displayname: opts.displayname } : {} });
    this.userTokens.set(token, userId);
    return { userId, token };
  }

  addAppservice(reg: AppserviceRegistration): void {
    this.appservices.push(reg);
    const bot = `@${reg.sender_localpart}:${this.serverName}`;
    if (!this.users.has(bot)) this.users.set(bot, { userId: bot, profile: {}, appservice: reg.id });
  }

  /** True when `userId` is inside one of the appservice's user namespaces (or is its sender). */
  inNamespace(as: AppserviceRegistration, userId: string): boolean {
    if (userId === `@${as.sender_localpart}:${this.serverName}`) return true;
    return (as.namespaces.users ?? []).some((n) => new RegExp(n.regex).test(userId));
  }

  newEventId(): string {
    this.#counter++;
    return `$${createHash('sha256').update(`${this.serverName}:${this.#counter}`).digest('base64url').slice(0, 43)}`;
  }

  newRoomId(): string {
    this.#counter++;
    return `!${createHash('sha256').update(`room:${this.#counter}`).digest('base64url').slice(0, 18)}:${this.serverName}`;
  }

  /**
   * `createContent`: extra `m.room.create` content (the `creation_content` of `/createRoom`), e.g. a
   * `predecessor` `{ room_id, event_id? }` for the room that replaces an upgraded one.
   */
  createRoom(
    creator: string,
    opts: { roomId?: string; version?: string; createContent?: Record<string, unknown>; ts?: number } = {},
  ): FakeRoom {
    const room: FakeRoom = {
      id: opts.roomId ?? this.newRoomId(),
      version: opts.version ?? this.defaultRoomVersion,
      creator,
      events: [],
      state: new Map(),
      aliases: [],
      purged: 0,
    };
    this.rooms.set(room.id, room);
    this.append(room, {
      type: 'm.room.create',
      sender: creator,
      stateKey: '',
      ts: opts.ts,
      content: { ...(opts.createContent ?? {}), room_version: room.version },
    });
    this.append(room, {
      type: 'm.room.member',
      sender: creator,
      stateKey: creator,
      ts: opts.ts,
      content: { membership: 'join', ...this.memberProfile(creator) },
    });
    this.append(room, {
      type: 'm.room.power_levels',
      sender: creator,
      stateKey: '',
      ts: opts.ts,
      content: {
        // Room v12: creators are not listed (infinite power), and only they may tombstone by default.
        users: creatorsPrivileged(room.version) ? {} : { [creator]: 100 },
        ...(creatorsPrivileged(room.version) ? { events: { 'm.room.tombstone': 150 } } : {}),
        users_default: 0,
        events_default: 0,
        state_default: 50,
        redact: 50,
        invite: 0,
        kick: 50,
        ban: 50,
      },
    });
    return room;
  }

  /** Appends an event to a room's timeline (and state when it has a state key). */
  append(
    room: FakeRoom,
    ev: {
      type: string;
      sender: string;
      content: Record<string, unknown>;
      stateKey?: string;
      ts?: number;
      redacts?: string;
      eventId?: string;
    },
  ): FakeEvent {
    this.#stream++;
    const event: FakeEvent = {
      event_id: ev.eventId ?? this.newEventId(),
      room_id: room.id,
      type: ev.type,
      sender: ev.sender,
      origin_server_ts: ev.ts ?? this.clock(),
      content: ev.content,
      stream: this.#stream,
    };
    if (ev.stateKey !== undefined) {
      event.state_key = ev.stateKey;
      const prev = room.state.get(`${ev.type}\u0000${ev.stateKey}`);
      if (prev) event.unsigned = { prev_content: prev.content, replaces_state: prev.event_id };
      room.state.set(`${ev.type}\u0000${ev.stateKey}`, event);
    }
    if (ev.type === 'm.room.redaction' && ev.redacts) {
      event.redacts = ev.redacts;
      this.#redact(room, ev.redacts, event);
    }
    room.events.push(event);
    for (const l of this.listeners) l(event);
    return event;
  }

  membership(room: FakeRoom, userId: string): string | undefined {
    return room.state.get(`m.room.member\u0000${userId}`)?.content.membership as string | undefined;
  }

  stateContent(room: FakeRoom, type: string, stateKey = ''): Record<string, unknown> | undefined {
    return room.state.get(`${type}\u0000${stateKey}`)?.content;
  }

  /** The room's creators: the create event's sender and its `additional_creators` (room v12). */
  creators(room: FakeRoom): string[] {
    const create = room.state.get('m.room.create\u0000');
    const extra = create?.content.additional_creators;
    return [room.creator, ...(Array.isArray(extra) ? extra.filter((u): u is string => typeof u === 'string') : [])];
  }

  /** Power level of a user; room v12 creators have infinite power (MSC4289). */
  powerLevel(room: FakeRoom, userId: string): number {
    if (creatorsPrivileged(room.version) && this.creators(room).includes(userId)) return Infinity;
    const pl = this.stateContent(room, 'm.room.power_levels') as
      { users?: Record<string, number>; users_default?: number } | undefined;
    return pl?.users?.[userId] ?? pl?.users_default ?? 0;
  }

  joinedMembers(room: FakeRoom): string[] {
    const out: string[] = [];
    for (const [k, ev] of room.state)
      if (k.startsWith('m.room.member\u0000') && ev.content.membership === 'join') out.push(ev.state_key!);
    return out;
  }

  /** Server names with a joined member in the room (the servers "participating" in it, in spec terms). */
  residentServers(room: FakeRoom): Set<string> {
    return new Set(this.joinedMembers(room).map((u) => u.slice(u.indexOf(':') + 1)));
  }

  /** Removes the timeline events before `beforeEventId` from what clients can page through (state stays). */
  purgeHistory(room: FakeRoom, beforeEventId: string): void {
    const at = room.events.findIndex((e) => e.event_id === beforeEventId);
    if (at < 0) throw new Error(`purgeHistory: ${beforeEventId} is not in ${room.id}`);
    room.purged = Math.max(room.purged, at);
  }

  joinedRooms(userId: string): string[] {
    return [...this.rooms.values()].filter((r) => this.membership(r, userId) === 'join').map((r) => r.id);
  }

  memberProfile(userId: string): Record<string, unknown> {
    const p = this.users.get(userId)?.profile ?? {};
    const out: Record<string, unknown> = {};
    if (typeof p.displayname === 'string') out.displayname = p.displayname;
    if (typeof p.avatar_url === 'string') out.avatar_url = p.avatar_url;
    return out;
  }

  /** The event as clients see it (no stream position; room_id kept). */
  clientEvent(ev: FakeEvent): Record<string, unknown> {
    const { stream: _s, ...rest } = ev;
    return { ...rest, unsigned: { ...(ev.unsigned ?? {}), age: Math.max(0, this.clock() - ev.origin_server_ts) } };
  }

  /**
   * `/messages` with real token semantics. Tokens are `p<index>`: positions between timeline events.
   * Like Synapse, `end` is present whenever `chunk` is non-empty and absent when there is nothing more.
   */
  paginate(
    room: FakeRoom,
    opts: { from?: string; dir: 'b' | 'f'; limit: number; to?: string; visibleFrom?: number },
  ): {
    start: string;
    end?: string;
    chunk: FakeEvent[];
  } {
    const n = room.events.length;
    const parse = (t: string | undefined, def: number): number | undefined => {
      if (t === undefined) return def;
      const m = /^p(\d+)$/.exec(t);
      if (!m) return undefined;
      return Math.min(Number(m[1]), n);
    };
    const from = parse(opts.from, opts.dir === 'b' ? n : 0);
    if (from === undefined) throw new Error('M_INVALID_PARAM');
    const lower = Math.max(opts.visibleFrom ?? 0, room.purged);
    const limit = Math.max(1, Math.min(opts.limit, 1000));
    if (opts.dir === 'b') {
      const stop = Math.max(lower, parse(opts.to, lower) ?? lower);
      const begin = Math.max(stop, from - limit);
      const chunk = room.events.slice(begin, from).reverse();
      return chunk.length > 0 ? { start: `p${from}`, end: `p${begin}`, chunk } : { start: `p${from}`, chunk };
    }
    const stop = Math.min(n, parse(opts.to, n) ?? n);
    const start = Math.max(from, lower);
    const endIdx = Math.min(stop, start + limit);
    const chunk = room.events.slice(start, endIdx);
    return chunk.length > 0 ? { start: `p${from}`, end: `p${endIdx}`, chunk } : { start: `p${from}`, chunk };
  }

  #redact(room: FakeRoom, targetId: string, because: FakeEvent) {
    const target = room.events.find((e) => e.event_id === targetId);
    if (!target) return;
    // Room v11 redaction algorithm, reduced to what clients observe: content emptied except a few keys.
    const keep: Record<string, string[]> = {
      'm.room.member': ['membership'],
      'm.room.create': ['room_version', 'creator'],
    };
    const kept = keep[target.type] ?? [];
    target.content = Object.fromEntries(Object.entries(target.content).filter(([k]) => kept.includes(k)));
    target.unsigned = { ...(target.unsigned ?? {}), redacted_because: { ...because, stream: undefined } };
  }
}

/** True for room versions where creators are privileged (v12 and later, MSC4289). */
export function creatorsPrivileged(version: string): boolean {
  return /^\d+$/.test(version) && Number(version) >= 12;
}
