/**
 * Fake wazo-webhookd `/api/webhookd/1.0/subscriptions` plus delivery: each bus event matching a subscription is
 * rendered through its url/body templates and POSTed, retried up to 10 attempts unless the receiver answers 410.
 */
import { Hono } from 'hono';
import { invalid, isObj, readJson, unauthorized, wazoError } from './errors.ts';
import type { BusEvent, FakeSubscription, FakeWazoState } from './state.ts';

export const MAX_ATTEMPTS = 10;
const METHODS = ['head', 'get', 'post', 'put', 'delete'];

export interface HookLog {
  subscription: string;
  event: string;
  status: 'success' | 'failure' | 'error';
  attempts: number;
  httpStatus: number | null;
}

export function webhookdRoutes(state: FakeWazoState): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    const t = state.validToken(c.req.header('x-auth-token'));
    if (!t?.admin) return unauthorized(c);
    await next();
  });

  app.get('/subscriptions', (c) => {
    const filters = c.req.queries('search_metadata') ?? [];
    const items = [...state.subscriptions.values()].filter((s) =>
      filters.every((f) => {
        const i = f.indexOf(':');
        return i > 0 && s.metadata[f.slice(0, i)] === f.slice(i + 1);
      }),
    );
    return c.json({ items, total: items.length }, 200);
  });

  app.post('/subscriptions', async (c) => {
    const parsed = validate(await readJson(c));
    if ('error' in parsed) return invalid(c, parsed.error);
    const sub: FakeSubscription = {
      uuid: crypto.randomUUID(),
      owner_tenant_uuid: state.tenantUuid,
      owner_user_uuid: null,
      ...parsed.ok,
    };
    state.subscriptions.set(sub.uuid, sub);
    return c.json(sub, 201);
  });

  app.get('/subscriptions/:uuid', (c) => {
    const s = state.subscriptions.get(c.req.param('uuid'));
    return s ? c.json(s, 200) : wazoError(c, 404, 'not-found', 'No such subscription', {}, 'subscriptions');
  });

  app.put('/subscriptions/:uuid', async (c) => {
    const s = state.subscriptions.get(c.req.param('uuid'));
    if (!s) return wazoError(c, 404, 'not-found', 'No such subscription', {}, 'subscriptions');
    const parsed = validate(await readJson(c));
    if ('error' in parsed) return invalid(c, parsed.error);
    const updated = { ...s, ...parsed.ok };
    state.subscriptions.set(s.uuid, updated);
    return c.json(updated, 200);
  });

  app.delete('/subscriptions/:uuid', (c) => {
    if (!state.subscriptions.delete(c.req.param('uuid')))
      return wazoError(c, 404, 'not-found', 'No such subscription', {}, 'subscriptions');
    return c.body(null, 204);
  });
  return app;
}

type SubFields = Omit<FakeSubscription, 'uuid' | 'owner_tenant_uuid' | 'owner_user_uuid'>;

function validate(body: unknown): { ok: SubFields } | { error: Record<string, unknown> } {
  const req = (m: string) => ({ message: m, constraint_id: 'required', constraint: 'required' });
  if (!isObj(body)) return { error: { _schema: { message: 'Invalid input type.', constraint_id: 'type' } } };
  if (typeof body.name !== 'string' || body.name.length > 128)
    return { error: { name: req('Missing data for required field.') } };
  if (typeof body.service !== 'string') return { error: { service: req('Missing data for required field.') } };
  if (!Array.isArray(body.events) || !body.events.every((e) => typeof e === 'string' && e.length <= 128)) {
    return { error: { events: req('Missing data for required field.') } };
  }
  if (!isObj(body.config)) return { error: { config: req('Missing data for required field.') } };
  const cfg = body.config;
  if (typeof cfg.url !== 'string' || cfg.url.length > 8192)
    return { error: { config: { url: req('Missing data for required field.') } } };
  if (typeof cfg.method !== 'string' || !METHODS.includes(cfg.method))
    return { error: { config: { method: req('Must be one of: head, get, post, put, delete.') } } };
  if (typeof cfg.body === 'string' && cfg.body.length > 16384)
    return { error: { config: { body: req('Longer than maximum length 16384.') } } };
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg)) if (typeof v === 'string') config[k] = v;
  const metadata: Record<string, string> = {};
  if (isObj(body.metadata))
    for (const [k, v] of Object.entries(body.metadata)) if (typeof v === 'string') metadata[k] = v;
  return {
    ok: {
      name: body.name,
      service: body.service,
      events: body.events as string[],
      events_user_uuid: typeof body.events_user_uuid === 'string' ? body.events_user_uuid : null,
      events_wazo_uuid: typeof body.events_wazo_uuid === 'string' ? body.events_wazo_uuid : null,
      config,
      metadata,
    },
  };
}

/** Renders the small subset of Jinja2 that subscriptions use: `{{ event_name }}`, `{{ wazo_uuid }}`, `{{ event|tojson }}`, `{{ event.a.b }}`. */
export function renderTemplate(tpl: string, e: BusEvent): string {
  return tpl.replace(/\{\{\s*([a-z_.]+)(\|tojson)?\s*\}\}/g, (_m, expr: string, tojson: string | undefined) => {
    let v: unknown;
    if (expr === 'event_name') v = e.name;
    else if (expr === 'wazo_uuid') v = e.origin_uuid;
    else if (expr === 'event' || expr.startsWith('event.')) {
      v = e.data;
      for (const k of expr.split('.').slice(1)) v = isObj(v) ? v[k] : undefined;
    }
    if (tojson) return JSON.stringify(v ?? null);
    return v === undefined || v === null ? '' : String(v);
  });
}

/** Does `sub` want this event copy? Mirrors webhookd's name and user filters. */
export function matches(sub: FakeSubscription, e: BusEvent): boolean {
  if (!sub.events.includes(e.name) && !sub.events.includes('*')) return false;
  if (sub.events_user_uuid && sub.events_user_uuid !== e.recipient) return false;
  if (sub.events_wazo_uuid && sub.events_wazo_uuid !== e.origin_uuid) return false;
  return true;
}
