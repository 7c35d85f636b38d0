/**
 * HTTP face of the fake homeserver: the Client-Server endpoints our code calls, checked against the Matrix
 * spec files (MatrixSpec), with the auth rules of application services (as_token + `user_id` assertion
 * inside the namespace) and of ordinary users (access tokens).
 */
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { MatrixSpec } from '../matrix-spec/index.ts';
import type { AppserviceRegistration, FakeRoom, HomeserverModel } from './model.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The user the request acted as (after identity assertion), when authenticated. */
  actingAs?: string;
  /** The bearer token the request carried (an appservice's as_token or a user's access token). */
  accessToken?: string;
  appservice?: string;
  status: number;
}

export interface FailureRule {
  method?: string;
  path: RegExp;
  status: number;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** How many matching requests fail; Infinity = until removed. */
  times: number;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

export interface Caller {
  userId: string;
  appservice?: AppserviceRegistration;
}

type Ctx = Context<{ Variables: { caller: Caller; params: Record<string, string>; body: Record<string, unknown> } }>;

export const err = (c: Context, status: number, errcode: string, error: string, extra: Record<string, unknown> = {}) =>
  c.json({ errcode, error, ...extra }, status as ContentfulStatusCode);

/** Builds the hono app. `extraRoutes` lets other modules (e.g. history endpoints) add handlers on the same model. */
export function buildApp(
  model: HomeserverModel,
  spec: MatrixSpec,
  state: { requests: RecordedRequest[]; failures: FailureRule[] },
  routes: (
    app: Hono<{ Variables: { caller: Caller; params: Record<string, string>; body: Record<string, unknown> } }>,
  ) => void,
) {
  const app = new Hono<{
    Variables: { caller: Caller; params: Record<string, string>; body: Record<string, unknown> };
  }>();

  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    const rec: RecordedRequest = {
      method: c.req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      status: 0,
    };
    state.requests.push(rec);
    const rule = state.failures.find(
      (f) => f.times > 0 && f.path.test(url.pathname) && (!f.method || f.method === c.req.method),
    );
    if (rule) {
      rule.times--;
      if (rule.hang) return new Promise<Response>(() => {});
      rec.status = rule.status;
      return c.json(
        rule.body ?? { errcode: 'M_UNKNOWN', error: 'Injected failure' },
        rule.status as ContentfulStatusCode,
        rule.headers,
      );
    }
    // Media bodies are bytes: read as text here, hono would hand the upload route that text re-encoded as UTF-8.
    const media = url.pathname.startsWith('/_matrix/media/');
    const raw = c.req.method === 'GET' || c.req.method === 'DELETE' || media ? '' : await c.req.text();
    let body: unknown;
    let isJson = false;
    const ctype = c.req.header('content-type') ?? '';
    if (raw) {
      try {
        body = JSON.parse(raw);
        isJson = true;
      } catch {
        // Not JSON: the spec check below answers M_NOT_JSON for endpoints that need a JSON body.
        isJson = false;
      }
    } else if (!raw && ctype.includes('json')) isJson = false;
    rec.body = body;
    const check = spec.check(c.req.method, url.pathname, url.searchParams, body, isJson);
    if (!check.ok) {
      rec.status = check.status!;
      return err(c, check.status!, check.errcode!, check.error!);
    }
    c.set('params', check.params);
    c.set('body', (body ?? {}) as Record<string, unknown>);
    if (
      !['/_matrix/client/versions'].includes(url.pathname) &&
      !url.pathname.startsWith('/_matrix/media/v3/download')
    ) {
      const header = c.req.header('authorization');
      rec.accessToken = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      const auth = authenticate(model, header, url.searchParams);
      if ('error' in auth) {
        rec.status = auth.status;
        return err(c, auth.status, auth.errcode, auth.error);
      }
      c.set('caller', auth);
      rec.actingAs = auth.userId;
      rec.appservice = auth.appservice?.id;
    }
    await next();
    rec.status = c.res.status;
  });

  routes(app);
  app.notFound((c) => err(c, 404, 'M_UNRECOGNIZED', 'Unrecognized request'));
  app.onError((e, c) => err(c, 500, 'M_UNKNOWN', e.message));
  return app;
}

function authenticate(
  model: HomeserverModel,
  header: string | undefined,
  query: URLSearchParams,
): Caller | { error: string; errcode: string; status: number } {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token) return { status: 401, errcode: 'M_MISSING_TOKEN', error: 'Missing access token' };
  const as = model.appservices.find((a) => a.as_token === token);
  if (as) {
    const bot = `@${as.sender_localpart}:${model.serverName}`;
    const asserted = query.get('user_id') ?? bot;
    if (!model.inNamespace(as, asserted)) {
      return { status: 403, errcode: 'M_FORBIDDEN', error: 'Application service cannot masquerade as this user.' };
    }
    if (!model.users.has(asserted)) {
      return { status: 403, errcode: 'M_FORBIDDEN', error: 'Application service has not registered this user' };
    }
    return { userId: asserted, appservice: as };
  }
  const userId = model.userTokens.get(token);
  if (!userId) return { status: 401, errcode: 'M_UNKNOWN_TOKEN', error: 'Unrecognised access token' };
  return { userId };
}

/** Looks up a room the caller may act in; answers the spec's errors otherwise. */
export function roomFor(model: HomeserverModel, c: Ctx, needJoin = true): FakeRoom | Response {
  const room = model.rooms.get(c.get('params').roomId);
  const caller = c.get('caller');
  if (!room) return err(c, 403, 'M_FORBIDDEN', 'Unknown room or you are not in it');
  if (needJoin && model.membership(room, caller.userId) !== 'join') {
    return err(c, 403, 'M_FORBIDDEN', `User ${caller.userId} not in room ${room.id}`);
  }
  return room;
}

export type FakeApp = ReturnType<typeof buildApp>;
export type { Ctx };
