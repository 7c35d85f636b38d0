/**
 * The homeserver → appservice API (Matrix spec v1.19, application-service/*.yaml) as a hono sub-app: the
 * `hs_token` check, transactions, the user and room-alias queries and ping, on the `/_matrix/app/v1` paths
 * and on the legacy unprefixed ones. The bridge core does the work; this file only validates and answers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type { Logger } from '../log.ts';
import { type BodyLimitFloor, errorBody } from './app.ts';

/** What the appservice routes need from the bridge core. */
export interface AppserviceHandler {
  /**
   * Records a transaction durably and returns once it is safe to acknowledge. `duplicate` when this txnId
   * was accepted before (nothing is processed again). Must be quick: no network I/O before it returns.
   */
  acceptTransaction(
    txnId: string,
    events: unknown[],
    ephemeral: unknown[],
  ): Promise<{ duplicate: boolean; accepted: number }>;
  /** True when the user is one of ours and now exists on the homeserver (registered on demand). */
  queryUser(userId: string): Promise<boolean>;
  /** True when the alias is one of ours and the room now exists. */
  queryRoomAlias(alias: string): Promise<boolean>;
}

export interface AppserviceAppOptions {
  hsToken: string;
  handler: AppserviceHandler;
  log: Logger;
}

const PREFIXES = ['/_matrix/app/v1', ''];

/**
 * The largest transaction a homeserver may push, accepted whatever `[http] max_body_bytes` says: a 413 is never
 * final for the homeserver, which retries the same transaction forever and holds every later event behind it.
 * Synapse sends at most 100 events (MAX_PERSISTENT_EVENTS_PER_TRANSACTION) of at most 64 KiB each (the PDU
 * limit), plus `unsigned.prev_content` of up to 64 KiB for a state event, and at most 100 ephemeral events:
 * about 13 MB at worst.
 */
export const MAX_TRANSACTION_BYTES = 16 * 1024 * 1024;

/** Body limits of the appservice routes, for the app that mounts them (at `/`). */
export const APPSERVICE_BODY_LIMITS: readonly BodyLimitFloor[] = [
  { path: /^(\/_matrix\/app\/v1)?\/transactions\/[^/]+$/, minBytes: MAX_TRANSACTION_BYTES },
];

export function createAppserviceApp(opts: AppserviceAppOptions): Hono {
  const app = new Hono();
  const expected = createHash('sha256').update(opts.hsToken).digest();
  const log = opts.log.child({ component: 'appservice-api' });

  // Hashing gives equal-length buffers, so timingSafeEqual never leaks the token's length either.
  const sha = (v: string) => createHash('sha256').update(v).digest();
  const authorised = (c: Context): Response | undefined => {
    const header = c.req.header('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const query = c.req.query('access_token');
    if (bearer === undefined && query === undefined) {
      return c.json(errorBody('M_MISSING_TOKEN', 'Missing hs_token'), 401);
    }
    if (bearer !== undefined && query !== undefined && !timingSafeEqual(sha(bearer), sha(query))) {
      return c.json(errorBody('M_FORBIDDEN', 'Bad hs_token'), 403);
    }
    if (!timingSafeEqual(sha(bearer ?? query ?? ''), expected))
      return c.json(errorBody('M_FORBIDDEN', 'Bad hs_token'), 403);
    return undefined;
  };

  for (const p of PREFIXES) {
    app.put(`${p}/transactions/:txnId`, async (c) => {
      const denied = authorised(c);
      if (denied) return denied;
      const txnId = c.req.param('txnId');
      const raw = await c.req.text();
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return c.json(errorBody('M_NOT_JSON', 'Content not JSON.'), 400);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return c.json(errorBody('M_NOT_JSON', 'Body must be a JSON object.'), 400);
      }
      const { events, ephemeral } = body as { events?: unknown; ephemeral?: unknown };
      if (!Array.isArray(events)) return c.json(errorBody('M_BAD_JSON', '`events` must be an array.'), 400);
      const eph = Array.isArray(ephemeral) ? ephemeral : [];
      const res = await opts.handler.acceptTransaction(txnId, events, eph);
      if (res.duplicate) log.debug({ txn_id: txnId }, 'duplicate transaction acknowledged');
      return c.json({}, 200);
    });

    app.get(`${p}/users/:userId`, async (c) => {
      const denied = authorised(c);
      if (denied) return denied;
      const ok = await opts.handler.queryUser(c.req.param('userId'));
      return ok ? c.json({}, 200) : c.json(errorBody('NET.MAUNIUM.NOT_FOUND', 'No such user'), 404);
    });

    app.get(`${p}/rooms/:roomAlias`, async (c) => {
      const denied = authorised(c);
      if (denied) return denied;
      const ok = await opts.handler.queryRoomAlias(c.req.param('roomAlias'));
      return ok ? c.json({}, 200) : c.json(errorBody('NET.MAUNIUM.NOT_FOUND', 'No such room alias'), 404);
    });

    app.post(`${p}/ping`, async (c) => {
      const denied = authorised(c);
      if (denied) return denied;
      const raw = await c.req.text();
      if (raw) {
        try {
          JSON.parse(raw);
        } catch {
          return c.json(errorBody('M_NOT_JSON', 'Content not JSON.'), 400);
        }
      }
      return c.json({}, 200);
    });

    for (const route of ['/transactions/:txnId', '/users/:userId', '/rooms/:roomAlias', '/ping']) {
      app.all(`${p}${route}`, (c) => c.json(errorBody('M_UNRECOGNIZED', 'Unrecognized request'), 405));
    }
  }
  return app;
}
