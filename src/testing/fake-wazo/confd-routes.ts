/** Fake wazo-confd `/api/confd/1.1/users`: uuid filter (≤ 20, OR), views, admin tokens only. */
import { Hono } from 'hono';
import { invalid, unauthorized, wazoError } from './errors.ts';
import type { FakeUser, FakeWazoState } from './state.ts';

export const CONFD_MAX_UUIDS = 20;

export function confdRoutes(state: FakeWazoState): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    const t = state.validToken(c.req.header('x-auth-token'));
    if (!t) return unauthorized(c);
    if (!t.admin)
      return wazoError(c, 401, 'unauthorized', 'Unauthorized', {
        reason: 'missing_permission_or_invalid_tenant',
        required_access: 'confd.users.read',
      });
    await next();
  });

  app.get('/users', (c) => {
    const uuidParam = c.req.query('uuid');
    let users = [...state.users.values()].filter((u) => u.purpose === 'user');
    if (uuidParam !== undefined) {
      const uuids = uuidParam.split(',').filter(Boolean);
      if (uuids.length > CONFD_MAX_UUIDS)
        return invalid(c, {
          uuid: { message: `Longer than maximum length ${CONFD_MAX_UUIDS}.`, constraint_id: 'length' },
        });
      users = users.filter((u) => uuids.includes(u.uuid));
    }
    const view = c.req.query('view');
    if (view !== undefined && view !== 'summary' && view !== 'directory')
      return invalid(c, { view: { message: 'Must be one of: directory, summary.', constraint_id: 'enum' } });
    return c.json({ total: users.length, items: users.map((u) => render(u, view)) }, 200);
  });

  app.get('/users/:id', (c) => {
    const u = state.users.get(c.req.param('id'));
    if (u?.purpose !== 'user') return wazoError(c, 404, 'not-found', 'User was not found', {}, 'users');
    return c.json(render(u, undefined), 200);
  });
  return app;
}

function render(u: FakeUser, view: string | undefined): Record<string, unknown> {
  const base = { uuid: u.uuid, firstname: u.firstname, lastname: u.lastname || null, email: u.email };
  if (view === 'summary') return { id: 1, ...base, enabled: true };
  if (view === 'directory') return { id: 1, ...base, mobile_phone_number: u.mobile_phone_number, exten: null };
  // The full view includes the deprecated CTI password, as real confd does: clients must not log raw bodies.
  return {
    id: 1,
    ...base,
    username: u.username,
    password: u.password,
    mobile_phone_number: u.mobile_phone_number,
    enabled: true,
  };
}
