/** Fake wazo-chatd `/api/chatd/1.0`: `/users/me/rooms` and messages, with fan-out of bus events. */
import { type Context, Hono } from 'hono';
import { invalid, isObj, readJson, unauthorized, wazoError } from './errors.ts';
import type { FakeMessage, FakeRoom, FakeToken, FakeWazoState } from './state.ts';

export interface ChatdHooks {
  /** Called after a message is stored and published, before the answer: may return a status to fail with, or 'hang'. */
  afterCommit?: () => number | 'hang' | undefined;
}

export function chatdRoutes(state: FakeWazoState, hooks: ChatdHooks): Hono<{ Variables: { token: FakeToken } }> {
  const app = new Hono<{ Variables: { token: FakeToken } }>();
  app.use('*', async (c, next) => {
    const t = state.validToken(c.req.header('x-auth-token'));
    if (!t) return unauthorized(c);
    const tenant = c.req.header('wazo-tenant');
    if (tenant && tenant !== state.tenantUuid) {
      return wazoError(c, 401, 'unauthorized', 'Unauthorized', {
        reason: 'missing_permission_or_invalid_tenant',
        tenant_uuid: tenant,
      });
    }
    c.set('token', t);
    await next();
  });

  app.post('/users/me/rooms', async (c) => {
    const me = c.get('token').userUuid;
    const body = await readJson(c);
    if (!isObj(body))
      return invalid(c, { _schema: { message: 'Invalid input type.', constraint_id: 'type', constraint: 'dict' } });
    if (!Array.isArray(body.users))
      return invalid(c, {
        users: { message: 'Missing data for required field.', constraint_id: 'required', constraint: 'required' },
      });
    if (body.name !== undefined && body.name !== null && typeof body.name !== 'string')
      return invalid(c, { name: { message: 'Not a valid string.', constraint_id: 'type', constraint: 'string' } });
    const users: FakeRoom['users'] = [];
    for (const [i, u] of body.users.entries()) {
      if (!isObj(u) || typeof u.uuid !== 'string')
        return invalid(c, {
          users: { [i]: { uuid: { message: 'Missing data for required field.', constraint_id: 'required' } } },
        });
      users.push({
        uuid: u.uuid,
        tenant_uuid: typeof u.tenant_uuid === 'string' ? u.tenant_uuid : state.tenantUuid,
        wazo_uuid: typeof u.wazo_uuid === 'string' ? u.wazo_uuid : state.wazoUuid,
        identity: typeof u.identity === 'string' ? u.identity : null,
      });
    }
    if (new Set(users.map((u) => u.uuid)).size !== users.length)
      return wazoError(c, 400, 'duplicate-user', 'Duplicate user', {}, 'rooms');
    if (!users.some((u) => u.uuid === me))
      users.push({ uuid: me, tenant_uuid: state.tenantUuid, wazo_uuid: state.wazoUuid, identity: null });
    if (users.length < 2 || users.length > 100)
      return invalid(c, {
        users: { message: 'Length must be between 2 and 100.', constraint_id: 'length', constraint: {} },
      });
    const existing = state.findRoomBySet(
      state.tenantUuid,
      users.map((u) => u.uuid),
    );
    if (existing) return c.json(existing, 201);
    const room: FakeRoom = {
      uuid: crypto.randomUUID(),
      tenant_uuid: state.tenantUuid,
      name: typeof body.name === 'string' ? body.name : null,
      users,
    };
    state.rooms.set(room.uuid, room);
    state.publish('chatd_user_room_created', room, room, 'rooms.created');
    return c.json(room, 201);
  });

  app.get('/users/me/rooms', (c) => {
    const me = c.get('token').userUuid;
    const filter = (c.req.query('user_uuid') ?? '').split(',').filter(Boolean);
    const items = [...state.rooms.values()].filter((r) => {
      const ids = r.users.map((u) => u.uuid);
      return ids.includes(me) && filter.every((f) => ids.includes(f));
    });
    return c.json({ items, filtered: items.length, total: items.length }, 200);
  });

  app.get('/users/me/rooms/messages', (c) => {
    const me = c.get('token').userUuid;
    const search = c.req.query('search');
    const distinct = c.req.query('distinct');
    if (!search && distinct !== 'room_uuid')
      return invalid(c, { _schema: { message: 'Missing search or distinct', constraint_id: 'required' } });
    const mine = new Set(
      [...state.rooms.values()].filter((r) => r.users.some((u) => u.uuid === me)).map((r) => r.uuid),
    );
    let items = state.messages.filter((m) => mine.has(m.room.uuid));
    if (search) items = items.filter(matchSearch(search));
    if (distinct === 'room_uuid') {
      const latest = new Map<string, FakeMessage>();
      for (const m of items) latest.set(m.room.uuid, m);
      items = [...latest.values()];
    }
    return page(c, items, mine.size);
  });

  app.post('/users/me/rooms/:room/messages', async (c) => {
    const t = c.get('token');
    const room = state.rooms.get(c.req.param('room'));
    if (!room || room.tenant_uuid !== state.tenantUuid)
      return wazoError(c, 404, 'unknown-room', 'No such room', {}, 'rooms');
    const body = await readJson(c);
    if (!isObj(body))
      return invalid(c, { _schema: { message: 'Invalid input type.', constraint_id: 'type', constraint: 'dict' } });
    if (typeof body.content !== 'string')
      return invalid(c, {
        content: { message: 'Missing data for required field.', constraint_id: 'required', constraint: 'required' },
      });
    if (
      body.alias !== undefined &&
      body.alias !== null &&
      (typeof body.alias !== 'string' || body.alias.length > 256)
    ) {
      return invalid(c, {
        alias: { message: 'Longer than maximum length 256.', constraint_id: 'length', constraint: {} },
      });
    }
    const msg: FakeMessage = {
      uuid: crypto.randomUUID(),
      content: body.content,
      alias: typeof body.alias === 'string' ? body.alias : null,
      user_uuid: t.userUuid,
      tenant_uuid: state.tenantUuid,
      wazo_uuid: state.wazoUuid,
      created_at: state.createdAt(),
      room: { uuid: room.uuid },
      delivery: { type: 'internal', backend: null, recipients: [] },
    };
    state.messages.push(msg);
    state.publish('chatd_user_room_message_created', room, msg, `rooms.${room.uuid}.messages.created`);
    const fail = hooks.afterCommit?.();
    if (fail === 'hang') return new Promise<Response>(() => undefined);
    if (fail) return wazoError(c, fail as 500, 'unexpected-error', 'Unexpected error');
    return c.json(msg, 201);
  });

  app.get('/users/me/rooms/:room/messages', (c) => {
    const me = c.get('token').userUuid;
    const room = state.rooms.get(c.req.param('room'));
    if (!room?.users.some((u) => u.uuid === me)) return wazoError(c, 404, 'unknown-room', 'No such room', {}, 'rooms');
    let items = state.messages.filter((m) => m.room.uuid === room.uuid);
    const fromDate = c.req.query('from_date');
    if (fromDate !== undefined) {
      const from = Date.parse(fromDate);
      if (Number.isNaN(from))
        return invalid(c, { from_date: { message: 'Not a valid datetime.', constraint_id: 'type' } });
      items = items.filter((m) => compareCreated(m.created_at, fromDate) >= 0);
    }
    const search = c.req.query('search');
    if (search) items = items.filter(matchSearch(search));
    return page(c, items, state.messages.filter((m) => m.room.uuid === room.uuid).length);
  });

  return app;
}

/** chatd ordering by created_at with direction (default desc), then offset/limit. */
function page(c: Context, items: FakeMessage[], total: number): Response {
  const direction = c.req.query('direction') ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc')
    return invalid(c, { direction: { message: 'Must be one of: asc, desc.', constraint_id: 'enum' } });
  const order = c.req.query('order') ?? 'created_at';
  if (order !== 'created_at')
    return invalid(c, { order: { message: 'Must be one of: created_at.', constraint_id: 'enum' } });
  const limit = c.req.query('limit');
  const offset = Number(c.req.query('offset') ?? '0');
  if (limit !== undefined && !(Number(limit) >= 0))
    return invalid(c, { limit: { message: 'Must be greater than or equal to 0.', constraint_id: 'range' } });
  const sorted = [...items].sort((a, b) => compareCreated(a.created_at, b.created_at));
  if (direction === 'desc') sorted.reverse();
  const sliced = sorted.slice(offset, limit === undefined ? undefined : offset + Number(limit));
  return c.json({ items: sliced, filtered: items.length, total }, 200);
}

/** Compares chatd timestamps with microseconds (Date.parse would drop them). */
function compareCreated(a: string, b: string): number {
  const key = (s: string) => {
    const ms = Date.parse(s);
    const m = /\.(\d{3})(\d{3})/.exec(s);
    return ms * 1000 + (m ? Number(m[2]) : 0);
  };
  return key(a) - key(b);
}

function matchSearch(search: string): (m: FakeMessage) => boolean {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const words = fold(search).split(/\s+/).filter(Boolean);
  return (m) => {
    const text = fold(m.content);
    let at = 0;
    for (const w of words) {
      const i = text.indexOf(w, at);
      if (i < 0) return false;
      at = i + w.length;
    }
    return true;
  };
}
