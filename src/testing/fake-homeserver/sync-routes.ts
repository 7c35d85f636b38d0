/**
 * `GET /sync` of the fake homeserver (spec v1.19 `sync.yaml`), reduced to what a history reader uses:
 * `next_batch`, joined rooms' timelines (`limited` + `prev_batch` when more events than the limit arrived
 * since `since`), and invites with their stripped state. Tokens are global stream positions `s<n>`; the
 * `/messages` route accepts them too through {@link resolveStreamToken}, as Synapse accepts sync tokens there.
 */
import type { Hono } from 'hono';
import { type Caller, type Ctx, err } from './app.ts';
import type { FakeRoom, HomeserverModel } from './model.ts';

type App = Hono<{ Variables: { caller: Caller; params: Record<string, string>; body: Record<string, unknown> } }>;
const CS = '/_matrix/client/v3';

/** Current global stream position (the newest event's), as a sync token. */
export function currentStreamToken(model: HomeserverModel): string {
  let max = 0;
  for (const room of model.rooms.values()) {
    const last = room.events.at(-1);
    if (last && last.stream > max) max = last.stream;
  }
  return `s${max}`;
}

/**
 * Turns a sync token `s<stream>` into the per-room position token `p<index>` used by `paginate`
 * (index = number of room events at or before that stream position). Other tokens pass through.
 */
export function resolveStreamToken(room: FakeRoom, token: string | undefined): string | undefined {
  const m = token === undefined ? null : /^s(\d+)$/.exec(token);
  if (!m) return token;
  const stream = Number(m[1]);
  let lo = 0;
  let hi = room.events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (room.events[mid]!.stream <= stream) lo = mid + 1;
    else hi = mid;
  }
  return `p${lo}`;
}

interface SyncFilter {
  room?: { rooms?: string[]; timeline?: { limit?: number; types?: string[] } };
}

export function syncRoutes(app: App, model: HomeserverModel) {
  app.get(`${CS}/sync`, (c) => {
    const me = (c as unknown as Ctx).get('caller').userId;
    let filter: SyncFilter = {};
    const raw = c.req.query('filter');
    if (raw) {
      if (!raw.trim().startsWith('{'))
        return err(c, 400, 'M_INVALID_PARAM', 'Stored filter IDs are not supported by this fake');
      try {
        filter = JSON.parse(raw) as SyncFilter;
      } catch {
        return err(c, 400, 'M_INVALID_PARAM', 'filter is not valid JSON');
      }
    }
    const since = c.req.query('since');
    let sinceStream = 0;
    if (since !== undefined) {
      const m = /^s(\d+)$/.exec(since);
      if (!m) return err(c, 400, 'M_INVALID_PARAM', 'Invalid since token');
      sinceStream = Number(m[1]);
    }
    const limit = filter.room?.timeline?.limit ?? 10;
    // Spec `EventFilter.limit`: "must be an integer greater than 0".
    if (!Number.isInteger(limit) || limit < 1)
      return err(c, 400, 'M_INVALID_PARAM', 'filter: timeline limit must be an integer greater than 0');
    const types = filter.room?.timeline?.types;
    const join: Record<string, unknown> = {};
    const invite: Record<string, unknown> = {};
    for (const room of model.rooms.values()) {
      if (filter.room?.rooms && !filter.room.rooms.includes(room.id)) continue;
      const membership = model.membership(room, me);
      if (membership === 'invite') {
        const stripped = [...room.state.values()]
          .filter(
            (e) =>
              ['m.room.create', 'm.room.name', 'm.room.join_rules'].includes(e.type) ||
              (e.type === 'm.room.member' && e.state_key === me),
          )
          .map((e) => ({ type: e.type, state_key: e.state_key, sender: e.sender, content: e.content }));
        invite[room.id] = { invite_state: { events: stripped } };
        continue;
      }
      if (membership !== 'join') continue;
      const fresh = room.events
        .slice(room.purged)
        .filter((e) => e.stream > sinceStream && (!types || types.includes(e.type)));
      if (since !== undefined && fresh.length === 0) continue;
      const shown = fresh.slice(-limit);
      const firstShown = shown[0];
      const prevIndex = firstShown ? room.events.indexOf(firstShown) : room.events.length;
      join[room.id] = {
        timeline: {
          events: shown.map((e) => {
            const { room_id: _r, ...rest } = model.clientEvent(e);
            return rest;
          }),
          limited: shown.length < fresh.length,
          prev_batch: `p${prevIndex}`,
        },
        state: { events: [] },
      };
    }
    return c.json({ next_batch: currentStreamToken(model), rooms: { join, invite, leave: {} } });
  });
}
