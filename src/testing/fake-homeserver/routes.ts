/** Client-Server endpoints of the fake homeserver (paths and errors as in the Matrix spec v1.19). */
import type { Hono } from 'hono';
import { type Caller, type Ctx, err, roomFor } from './app.ts';
import { creatorsPrivileged, type FakeRoom, type HomeserverModel } from './model.ts';

type App = Hono<{ Variables: { caller: Caller; params: Record<string, string>; body: Record<string, unknown> } }>;

const CS = '/_matrix/client/v3';
const LOCALPART = /^[a-z0-9._=\-/]+$/;

export function coreRoutes(
  app: App,
  model: HomeserverModel,
  hooks: { pingAppservice: (id: string, txn?: string) => Promise<Response | { status: number; body: unknown }> },
) {
  app.get('/_matrix/client/versions', (c) =>
    c.json({ versions: ['v1.1', 'v1.5', 'v1.7', 'v1.11', 'v1.12', 'v1.13', 'v1.16', 'v1.19'], unstable_features: {} }),
  );

  app.get(`${CS}/account/whoami`, (c) => {
    const caller = (c as unknown as Ctx).get('caller');
    return c.json({ user_id: caller.userId, ...(caller.appservice ? {} : { device_id: 'FAKEDEVICE' }) });
  });

  app.post(`${CS}/register`, (c) => {
    const ctx = c as unknown as Ctx;
    const body = ctx.get('body');
    const as = ctx.get('caller').appservice;
    if (!as || body.type !== 'm.login.application_service') {
      return err(c, 401, 'M_FORBIDDEN', 'Only application services may register users here');
    }
    const username = String(body.username ?? '');
    if (!LOCALPART.test(username))
      return err(c, 400, 'M_INVALID_USERNAME', 'User ID can only contain characters a-z, 0-9, or =_-./');
    const userId = `@${username}:${model.serverName}`;
    if (!model.inNamespace(as, userId))
      return err(c, 400, 'M_EXCLUSIVE', 'This user ID is reserved by an application service.');
    if (model.users.has(userId)) return err(c, 400, 'M_USER_IN_USE', 'User ID already taken.');
    if (body.inhibit_login !== true)
      return err(c, 400, 'M_APPSERVICE_LOGIN_UNSUPPORTED', 'inhibit_login must be true on this server');
    model.users.set(userId, { userId, profile: { displayname: username }, appservice: as.id });
    return c.json({ user_id: userId });
  });

  app.post(`${CS}/createRoom`, (c) => {
    const ctx = c as unknown as Ctx;
    const body = ctx.get('body');
    const caller = ctx.get('caller');
    const creation = body.creation_content;
    const override = body.power_level_content_override as Record<string, unknown> | undefined;
    const version = (body.room_version as string | undefined) ?? model.defaultRoomVersion;
    const overrideUsers = override?.users as Record<string, unknown> | undefined;
    if (overrideUsers && creatorsPrivileged(version)) {
      // Spec (createRoom, v1.16+): in room versions 12 and later the creator "cannot be specified in the
      // `users` field of `m.room.power_levels`"; the v12 auth rules reject such a power levels event.
      const extra = (creation as { additional_creators?: unknown } | undefined)?.additional_creators;
      const creators = [caller.userId, ...(Array.isArray(extra) ? extra : [])];
      const listed = creators.find((u) => typeof u === 'string' && u in overrideUsers);
      if (listed)
        return err(c, 400, 'M_BAD_JSON', `Room creator ${listed} cannot be in power_level_content_override.users`);
    } else if (overrideUsers && !(caller.userId in overrideUsers)) {
      // Synapse, rooms before v12: the override replaces `users` wholesale, so it must keep the creator.
      return err(
        c,
        400,
        'M_UNKNOWN',
        `Not a valid power_level_content_override: 'users' did not contain ${caller.userId}`,
      );
    }
    const room = model.createRoom(caller.userId, {
      version,
      // Spec: extra keys for the m.room.create content (e.g. `m.federate`, or `predecessor` after an upgrade).
      createContent:
        creation !== null && typeof creation === 'object' && !Array.isArray(creation)
          ? (creation as Record<string, unknown>)
          : undefined,
    });
    const preset =
      (body.preset as string | undefined) ?? (body.visibility === 'public' ? 'public_chat' : 'private_chat');
    model.append(room, {
      type: 'm.room.join_rules',
      sender: caller.userId,
      stateKey: '',
      content: { join_rule: preset === 'public_chat' ? 'public' : 'invite' },
    });
    model.append(room, {
      type: 'm.room.history_visibility',
      sender: caller.userId,
      stateKey: '',
      content: { history_visibility: 'shared' },
    });
    if (override) {
      // "Applied on top of" the generated content: a shallow merge, as Synapse does (`users` is replaced).
      const cur = model.stateContent(room, 'm.room.power_levels') ?? {};
      model.append(room, {
        type: 'm.room.power_levels',
        sender: caller.userId,
        stateKey: '',
        content: { ...cur, ...override },
      });
    }
    for (const s of (body.initial_state as
      { type: string; state_key?: string; content: Record<string, unknown> }[] | undefined) ?? []) {
      model.append(room, { type: s.type, sender: caller.userId, stateKey: s.state_key ?? '', content: s.content });
    }
    if (typeof body.name === 'string')
      model.append(room, { type: 'm.room.name', sender: caller.userId, stateKey: '', content: { name: body.name } });
    if (typeof body.topic === 'string')
      model.append(room, { type: 'm.room.topic', sender: caller.userId, stateKey: '', content: { topic: body.topic } });
    for (const invitee of (body.invite as string[] | undefined) ?? []) {
      model.append(room, {
        type: 'm.room.member',
        sender: caller.userId,
        stateKey: invitee,
        content: { membership: 'invite', ...(body.is_direct ? { is_direct: true } : {}) },
      });
    }
    return c.json({ room_id: room.id });
  });

  app.post(`${CS}/rooms/:roomId/invite`, (c) => {
    const ctx = c as unknown as Ctx;
    const room = roomFor(model, ctx);
    if (room instanceof Response) return room;
    const target = String(ctx.get('body').user_id ?? '');
    const cur = model.membership(room, target);
    if (cur === 'join') return err(c, 403, 'M_FORBIDDEN', `${target} is already in the room.`);
    if (cur === 'ban') return err(c, 403, 'M_FORBIDDEN', `${target} is banned from the room`);
    model.append(room, {
      type: 'm.room.member',
      sender: ctx.get('caller').userId,
      stateKey: target,
      content: { membership: 'invite' },
    });
    return c.json({});
  });

  /**
   * Joins `room`. Allowed when already joined, invited, the room is public, or its join rule is `restricted`
   * (`knock_restricted`) with an `m.room_membership` allow entry for a room the caller is joined to (spec
   * "Restricted rooms"). Federation as the spec describes it: when our server has no joined member in the
   * room and the caller holds no invite (which names its server), one of `via` (`server_name`) must be a
   * server participating in the room (a server of a joined member), else 404 "No known servers".
   */
  const join = (c: Ctx, room: FakeRoom | undefined, via: readonly string[]) => {
    const caller = c.get('caller');
    if (!room) return err(c, 404, 'M_NOT_FOUND', 'No known servers');
    const cur = model.membership(room, caller.userId);
    const rules = model.stateContent(room, 'm.room.join_rules');
    const rule = rules?.join_rule;
    const allowedBy = (rules?.allow as { type?: unknown; room_id?: unknown }[] | undefined) ?? [];
    const restrictedOk =
      (rule === 'restricted' || rule === 'knock_restricted') &&
      Array.isArray(allowedBy) &&
      allowedBy.some((a) => {
        if (a?.type !== 'm.room_membership' || typeof a.room_id !== 'string') return false;
        const other = model.rooms.get(a.room_id);
        return other !== undefined && model.membership(other, caller.userId) === 'join';
      });
    if (cur !== 'join' && cur !== 'invite' && rule !== 'public' && !restrictedOk)
      return err(c, 403, 'M_FORBIDDEN', 'You are not invited to this room.');
    if (cur !== 'join' && cur !== 'invite') {
      const resident = model.residentServers(room);
      if (!resident.has(model.serverName) && !via.some((s) => resident.has(s)))
        return err(c, 404, 'M_NOT_FOUND', 'No known servers');
    }
    if (cur !== 'join') {
      model.append(room, {
        type: 'm.room.member',
        sender: caller.userId,
        stateKey: caller.userId,
        content: { membership: 'join', ...model.memberProfile(caller.userId) },
      });
    }
    return c.json({ room_id: room.id });
  };
  app.post(`${CS}/rooms/:roomId/join`, (c) =>
    join(c as unknown as Ctx, model.rooms.get((c as unknown as Ctx).get('params').roomId), []),
  );
  app.post(`${CS}/join/:roomIdOrAlias`, (c) => {
    const id = (c as unknown as Ctx).get('params').roomIdOrAlias;
    // `via` (v1.12) and its deprecated predecessor `server_name`: both name servers to join through.
    const via = [...(c.req.queries('via') ?? []), ...(c.req.queries('server_name') ?? [])];
    if (id.startsWith('#')) {
      // An alias resolves through the directory, which also names resident servers.
      const room = model.rooms.get(model.aliases.get(id) ?? '');
      return join(c as unknown as Ctx, room, room ? [...model.residentServers(room)] : []);
    }
    return join(c as unknown as Ctx, model.rooms.get(id), via);
  });

  app.post(`${CS}/rooms/:roomId/leave`, (c) => {
    const ctx = c as unknown as Ctx;
    const room = roomFor(model, ctx, false);
    if (room instanceof Response) return room;
    const me = ctx.get('caller').userId;
    if (!model.membership(room, me) || model.membership(room, me) === 'leave')
      return err(c, 403, 'M_FORBIDDEN', 'You are not in this room');
    model.append(room, { type: 'm.room.member', sender: me, stateKey: me, content: { membership: 'leave' } });
    return c.json({});
  });

  app.put(`${CS}/rooms/:roomId/send/:eventType/:txnId`, (c) => {
    const ctx = c as unknown as Ctx;
    const caller = ctx.get('caller');
    const { eventType } = ctx.get('params');
    // Synapse keys appservice requests by (path, appservice id); the query string (user_id) is not part of it.
    const key = `${caller.appservice ? `as:${caller.appservice.id}` : `user:${caller.userId}`}|${new URL(c.req.url).pathname}`;
    const cached = model.txnCache.get(key);
    if (cached) return c.json(cached);
    const room = roomFor(model, ctx);
    if (room instanceof Response) return room;
    const tsParam = c.req.query('ts');
    let ts: number | undefined;
    if (tsParam !== undefined) {
      if (!caller.appservice) return err(c, 403, 'M_FORBIDDEN', 'Only application services may set ts');
      ts = Number(tsParam);
      if (!Number.isInteger(ts) || ts < 0) return err(c, 400, 'M_INVALID_PARAM', 'ts must be a positive integer');
    }
    const content = ctx.get('body');
    const redacts = eventType === 'm.room.redaction' ? (content.redacts as string | undefined) : undefined;
    const ev = model.append(room, { type: eventType, sender: caller.userId, content, ts, redacts });
    const res = { event_id: ev.event_id };
    model.txnCache.set(key, res);
    return c.json(res);
  });

  const putState = (c: Ctx, stateKey: string) => {
    const room = roomFor(model, c);
    if (room instanceof Response) return room;
    const caller = c.get('caller');
    const needed = (model.stateContent(room, 'm.room.power_levels')?.state_default as number | undefined) ?? 50;
    if (model.powerLevel(room, caller.userId) < needed)
      return err(c, 403, 'M_FORBIDDEN', "You don't have permission to post that to the room.");
    const tsParam = c.req.query('ts');
    const ev = model.append(room, {
      type: c.get('params').eventType,
      sender: caller.userId,
      stateKey,
      content: c.get('body'),
      ts: tsParam && caller.appservice ? Number(tsParam) : undefined,
    });
    return c.json({ event_id: ev.event_id });
  };
  app.put(`${CS}/rooms/:roomId/state/:eventType/:stateKey`, (c) =>
    putState(c as unknown as Ctx, (c as unknown as Ctx).get('params').stateKey),
  );
  app.put(`${CS}/rooms/:roomId/state/:eventType/`, (c) => putState(c as unknown as Ctx, ''));

  app.put(`${CS}/rooms/:roomId/redact/:eventId/:txnId`, (c) => {
    const ctx = c as unknown as Ctx;
    const caller = ctx.get('caller');
    const key = `${caller.appservice ? `as:${caller.appservice.id}` : `user:${caller.userId}`}|${new URL(c.req.url).pathname}`;
    const cached = model.txnCache.get(key);
    if (cached) return c.json(cached);
    const room = roomFor(model, ctx);
    if (room instanceof Response) return room;
    const target = room.events.find((e) => e.event_id === ctx.get('params').eventId);
    if (!target) return err(c, 404, 'M_NOT_FOUND', 'Event not found');
    if (target.sender !== caller.userId && model.powerLevel(room, caller.userId) < 50)
      return err(c, 403, 'M_FORBIDDEN', 'You cannot redact this event');
    const reason = ctx.get('body').reason;
    const ev = model.append(room, {
      type: 'm.room.redaction',
      sender: caller.userId,
      content: { redacts: target.event_id, ...(reason ? { reason } : {}) },
      redacts: target.event_id,
    });
    const res = { event_id: ev.event_id };
    model.txnCache.set(key, res);
    return c.json(res);
  });

  app.get(`${CS}/profile/:userId`, (c) => {
    const user = model.users.get((c as unknown as Ctx).get('params').userId);
    if (!user) return err(c, 404, 'M_NOT_FOUND', 'Profile was not found');
    return c.json(user.profile);
  });
  app.get(`${CS}/profile/:userId/:keyName`, (c) => {
    const { userId, keyName } = (c as unknown as Ctx).get('params');
    const user = model.users.get(userId);
    if (!user || user.profile[keyName] === undefined) return err(c, 404, 'M_NOT_FOUND', 'Profile field was not found');
    return c.json({ [keyName]: user.profile[keyName] });
  });
  app.put(`${CS}/profile/:userId/:keyName`, (c) => {
    const ctx = c as unknown as Ctx;
    const { userId, keyName } = ctx.get('params');
    if (ctx.get('caller').userId !== userId) return err(c, 403, 'M_FORBIDDEN', "Cannot set another user's profile");
    const user = model.users.get(userId)!;
    const value = ctx.get('body')[keyName];
    if (value === undefined) return err(c, 400, 'M_MISSING_PARAM', `Missing key '${keyName}'`);
    // Synapse (handlers/profile.py): MAX_DISPLAYNAME_LEN = 256 and MAX_AVATAR_URL_LEN = 1000, in code points.
    if (keyName === 'displayname' && typeof value === 'string' && [...value].length > 256)
      return err(c, 400, 'M_UNKNOWN', 'Displayname is too long (max 256)');
    if (keyName === 'avatar_url' && typeof value === 'string' && [...value].length > 1000)
      return err(c, 400, 'M_UNKNOWN', 'Avatar URL is too long (max 1000)');
    user.profile[keyName] = value;
    if (keyName === 'displayname' || keyName === 'avatar_url') {
      // Like Synapse: a global profile change writes a new member event in every joined room.
      for (const roomId of model.joinedRooms(userId)) {
        const room = model.rooms.get(roomId)!;
        model.append(room, {
          type: 'm.room.member',
          sender: userId,
          stateKey: userId,
          content: { membership: 'join', ...model.memberProfile(userId) },
        });
      }
    }
    return c.json({});
  });

  app.post('/_matrix/client/v1/appservice/:appserviceId/ping', async (c) => {
    const ctx = c as unknown as Ctx;
    const as = ctx.get('caller').appservice;
    const id = ctx.get('params').appserviceId;
    if (!as || as.id !== id) return err(c, 403, 'M_FORBIDDEN', 'Provided access token is not for this appservice');
    if (!as.url) return err(c, 400, 'M_URL_NOT_SET', 'Application service URL is not set');
    const started = Date.now();
    const r = await hooks.pingAppservice(as.id, ctx.get('body').transaction_id as string | undefined);
    const status = r instanceof Response ? r.status : r.status;
    if (status === 0) return err(c, 502, 'M_CONNECTION_FAILED', 'Connection to the application service failed');
    if (status !== 200)
      return err(c, 502, 'M_BAD_STATUS', 'Application service returned a non-200 status', { status, body: '' });
    return c.json({ duration_ms: Date.now() - started });
  });

  app.post('/_matrix/media/v3/upload', async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const id = model
      .newEventId()
      .slice(1, 25)
      .replace(/[^A-Za-z0-9]/g, 'x');
    model.media.set(id, {
      contentType: c.req.header('content-type') ?? 'application/octet-stream',
      bytes,
      filename: c.req.query('filename'),
    });
    return c.json({ content_uri: `mxc://${model.serverName}/${id}` });
  });
  app.get('/_matrix/client/v1/media/download/:serverName/:mediaId', (c) => {
    const m = model.media.get((c as unknown as Ctx).get('params').mediaId);
    if (!m) return err(c, 404, 'M_NOT_FOUND', 'Not found');
    return c.body(m.bytes as unknown as ArrayBuffer, 200, { 'content-type': m.contentType });
  });

  app.put(`${CS}/rooms/:roomId/typing/:userId`, (c) => c.json({}));
  app.post(`${CS}/rooms/:roomId/receipt/:receiptType/:eventId`, (c) => c.json({}));
}
