/** Fake wazo-auth `/api/auth/0.1`: token create (Basic or refresh token), check, revoke, refresh token delete. */
import { Hono } from 'hono';
import { invalid, isObj, readJson, unauthorized, wazoError } from './errors.ts';
import type { FakeToken, FakeWazoState } from './state.ts';

export function authRoutes(state: FakeWazoState): Hono {
  const app = new Hono();

  app.post('/token', async (c) => {
    const raw = (await readJson(c)) ?? {};
    if (!isObj(raw))
      return invalid(c, { _schema: { message: 'Invalid input type', constraint_id: 'type', constraint: 'object' } });
    const expiration = raw.expiration ?? 7200;
    if (typeof expiration !== 'number' || !Number.isInteger(expiration) || expiration < 1 || expiration > 315360000) {
      return invalid(c, {
        expiration: { message: 'Must be between 1 and 315360000', constraint_id: 'range', constraint: {} },
      });
    }
    const accessType = raw.access_type ?? 'online';
    if (accessType !== 'online' && accessType !== 'offline') {
      return invalid(c, {
        access_type: { message: 'Must be one of: online, offline.', constraint_id: 'enum', constraint: {} },
      });
    }
    const clientId = raw.client_id;
    if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length < 1 || clientId.length > 1024)) {
      return invalid(c, {
        client_id: { message: 'Length must be between 1 and 1024.', constraint_id: 'length', constraint: {} },
      });
    }
    if (c.req.header('wazo-session-type') === 'mobile') state.mobileLogins++;
    const basic = parseBasic(c.req.header('authorization'));
    let userUuid: string | undefined;
    let refreshToken: string | undefined;
    if (basic) {
      if (raw.refresh_token !== undefined)
        return invalid(c, {
          _schema: {
            message: 'refresh_token and Basic auth are mutually exclusive',
            constraint_id: 'exclusive',
            constraint: {},
          },
        });
      const user = [...state.users.values()].find(
        (u) => (u.username === basic.username || u.email === basic.username) && u.password === basic.password,
      );
      if (!user) return wazoError(c, 401, 'authentication-failed', 'Authentication Failed');
      userUuid = user.uuid;
      if (accessType === 'offline') {
        if (typeof clientId !== 'string')
          return invalid(c, {
            _schema: {
              message: 'client_id is required with access_type offline',
              constraint_id: 'required',
              constraint: {},
            },
          });
        const key = `${user.uuid}/${clientId}`;
        refreshToken = state.refreshTokens.get(key) ?? crypto.randomUUID();
        state.refreshTokens.set(key, refreshToken);
      }
    } else if (typeof raw.refresh_token === 'string') {
      if (typeof clientId !== 'string')
        return invalid(c, {
          _schema: { message: 'client_id is required with refresh_token', constraint_id: 'required', constraint: {} },
        });
      const entry = [...state.refreshTokens.entries()].find(
        ([k, v]) => v === raw.refresh_token && k.endsWith(`/${clientId}`),
      );
      if (!entry) return wazoError(c, 401, 'authentication-failed', 'Authentication Failed');
      userUuid = entry[0].split('/')[0];
    } else {
      return wazoError(c, 401, 'authentication-failed', 'Authentication Failed');
    }
    const t = state.issueToken(userUuid, expiration, !basic);
    c.header('Wazo-Sessions-Revoked', '0');
    return c.json({ data: tokenData(state, t, refreshToken) }, 200);
  });

  app.on(['GET', 'HEAD'], '/token/:token', (c) => {
    const t = state.validToken(c.req.param('token'));
    if (!t) return wazoError(c, 404, 'not-found', 'No such token');
    if (c.req.method === 'HEAD') return c.body(null, 204);
    return c.json({ data: tokenData(state, t, undefined) }, 200);
  });

  app.delete('/token/:token', (c) => {
    state.tokens.delete(c.req.param('token'));
    return c.json({}, 200);
  });

  app.delete('/users/:user/tokens/:clientId', (c) => {
    const t = state.validToken(c.req.header('x-auth-token'));
    if (!t) return unauthorized(c);
    const user = c.req.param('user') === 'me' ? t.userUuid : c.req.param('user');
    if (user !== t.userUuid && !t.admin) return unauthorized(c);
    const key = `${user}/${c.req.param('clientId')}`;
    if (!state.refreshTokens.delete(key)) return wazoError(c, 404, 'not-found', 'No such refresh token');
    return c.body(null, 204);
  });

  return app;
}

function tokenData(state: FakeWazoState, t: FakeToken, refreshToken: string | undefined): Record<string, unknown> {
  const user = state.users.get(t.userUuid);
  const issuedMs = state.now();
  const isPbx = user?.purpose === 'user';
  const data: Record<string, unknown> = {
    token: t.token,
    session_uuid: crypto.randomUUID(),
    auth_id: t.userUuid,
    xivo_user_uuid: isPbx ? t.userUuid : null,
    xivo_uuid: state.wazoUuid,
    issued_at: pythonIso(issuedMs, true),
    expires_at: pythonIso(t.expiresAt, true),
    utc_issued_at: pythonIso(issuedMs, false),
    utc_expires_at: pythonIso(t.expiresAt, false),
    acl: isPbx
      ? ['chatd.users.me.rooms.#', 'events.chatd.users.me.rooms.#']
      : ['confd.users.read', 'webhookd.subscriptions.#', 'events.chatd.users.*.rooms.#'],
    metadata: {
      uuid: t.userUuid,
      tenant_uuid: state.tenantUuid,
      auth_id: t.userUuid,
      pbx_user_uuid: isPbx ? t.userUuid : null,
      xivo_uuid: state.wazoUuid,
      purpose: user?.purpose ?? 'user',
    },
  };
  if (refreshToken) data.refresh_token = refreshToken;
  return data;
}

/**
 * wazo-auth's timestamps are Python `datetime.fromtimestamp(t).isoformat()` (local time) and
 * `datetime.utcfromtimestamp(t).isoformat()` (UTC): naive, no offset, microseconds only when non-zero.
 */
function pythonIso(ms: number, local: boolean): string {
  const shifted = local ? ms - new Date(ms).getTimezoneOffset() * 60_000 : ms;
  const iso = new Date(shifted).toISOString(); // 2026-01-01T00:00:00.000Z
  const frac = ms % 1000;
  return frac === 0 ? iso.slice(0, 19) : `${iso.slice(0, 23)}000`;
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
