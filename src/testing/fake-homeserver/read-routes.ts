/** Read endpoints of the fake homeserver: rooms, state, members and history pagination. */
import type { Hono } from 'hono';
import { type Caller, type Ctx, err, roomFor } from './app.ts';
import type { HomeserverModel } from './model.ts';
import { resolveStreamToken } from './sync-routes.ts';

type App = Hono<{ Variables: { caller: Caller; params: Record<string, string>; body: Record<string, unknown> } }>;
const CS = '/_matrix/client/v3';

export function readRoutes(app: App, model: HomeserverModel) {
  app.get(`${CS}/joined_rooms`, (c) =>
    c.json({ joined_rooms: model.joinedRooms((c as unknown as Ctx).get('caller').userId) }),
  );

  app.get(`${CS}/rooms/:roomId/state`, (c) => {
    const room = roomFor(model, c as unknown as Ctx);
    if (room instanceof Response) return room;
    return c.json([...room.state.values()].map((e) => model.clientEvent(e)));
  });

  const stateEvent = (c: Ctx, stateKey: string) => {
    const room = roomFor(model, c);
    if (room instanceof Response) return room;
    const ev = room.state.get(`${c.get('params').eventType}\u0000${stateKey}`);
    if (!ev) return err(c, 404, 'M_NOT_FOUND', 'Event not found.');
    return c.json(c.req.query('format') === 'event' ? model.clientEvent(ev) : ev.content);
  };
  app.get(`${CS}/rooms/:roomId/state/:eventType/:stateKey`, (c) =>
    stateEvent(c as unknown as Ctx, (c as unknown as Ctx).get('params').stateKey ?? ''),
  );
  // The empty state key (`m.room.create`, `m.room.tombstone`, …): the path ends with a slash.
  app.get(`${CS}/rooms/:roomId/state/:eventType/`, (c) => stateEvent(c as unknown as Ctx, ''));

  app.get(`${CS}/rooms/:roomId/members`, (c) => {
    const room = roomFor(model, c as unknown as Ctx);
    if (room instanceof Response) return room;
    const only = c.req.query('membership');
    const not = c.req.query('not_membership');
    const chunk = [...room.state.values()]
      .filter((e) => e.type === 'm.room.member')
      .filter((e) => (!only || e.content.membership === only) && (!not || e.content.membership !== not))
      .map((e) => model.clientEvent(e));
    return c.json({ chunk });
  });

  app.get(`${CS}/rooms/:roomId/joined_members`, (c) => {
    const room = roomFor(model, c as unknown as Ctx);
    if (room instanceof Response) return room;
    const joined: Record<string, { display_name?: string; avatar_url?: string }> = {};
    for (const u of model.joinedMembers(room)) {
      const content = room.state.get(`m.room.member\u0000${u}`)!.content;
      joined[u] = {
        display_name: content.displayname as string | undefined,
        avatar_url: content.avatar_url as string | undefined,
      };
    }
    return c.json({ joined });
  });

  app.get(`${CS}/rooms/:roomId/event/:eventId`, (c) => {
    const ctx = c as unknown as Ctx;
    const room = roomFor(model, ctx);
    if (room instanceof Response) return room;
    const at = room.events.findIndex((e) => e.event_id === ctx.get('params').eventId);
    const ev = at >= room.purged ? room.events[at] : undefined;
    if (!ev) return err(c, 404, 'M_NOT_FOUND', 'Event not found.');
    return c.json(model.clientEvent(ev));
  });

  app.get(`${CS}/rooms/:roomId/messages`, (c) => {
    const ctx = c as unknown as Ctx;
    const room = model.rooms.get(ctx.get('params').roomId);
    const me = ctx.get('caller').userId;
    if (!room) return err(c, 403, 'M_FORBIDDEN', 'User not in room');
    // Members (and former members) may read; with history_visibility "joined", only from their first join on.
    const firstJoin = room.events.findIndex(
      (e) => e.type === 'm.room.member' && e.state_key === me && e.content.membership === 'join',
    );
    if (firstJoin < 0)
      return err(c, 403, 'M_FORBIDDEN', `User ${me} not in room ${room.id}, and room previews are disabled`);
    const vis = model.stateContent(room, 'm.room.history_visibility')?.history_visibility;
    const dir = c.req.query('dir');
    if (dir !== 'b' && dir !== 'f') return err(c, 400, 'M_INVALID_PARAM', 'dir must be "b" or "f"');
    const limit = Number(c.req.query('limit') ?? '10');
    if (!Number.isInteger(limit) || limit < 0)
      return err(c, 400, 'M_INVALID_PARAM', 'limit must be a non-negative integer');
    const filterRaw = c.req.query('filter');
    let types: string[] | undefined;
    if (filterRaw) {
      try {
        const f = JSON.parse(filterRaw) as { types?: string[] };
        types = f.types;
      } catch {
        return err(c, 400, 'M_INVALID_PARAM', 'filter is not valid JSON');
      }
    }
    let page: ReturnType<HomeserverModel['paginate']>;
    try {
      page = model.paginate(room, {
        from: resolveStreamToken(room, c.req.query('from')),
        to: resolveStreamToken(room, c.req.query('to')),
        dir,
        limit: limit || 10,
        visibleFrom: vis === 'joined' ? firstJoin : 0,
      });
    } catch {
      return err(c, 400, 'M_INVALID_PARAM', 'Invalid pagination token');
    }
    // `types` is applied to the page once it is cut (Synapse filters in SQL, before the limit): a page can come
    // back with an empty `chunk` and an `end`, as Synapse's pages do when history visibility hides all their
    // events. Clients must go on until `end` is absent (spec).
    const chunk = page.chunk.filter((e) => !types || types.includes(e.type)).map((e) => model.clientEvent(e));
    return c.json({ start: page.start, ...(page.end ? { end: page.end } : {}), chunk });
  });
}
