/**
 * The webhook receiver, a hono sub-app mounted at `/wazo`: `POST /wazo/events/<secret>`. The secret comes from
 * `MCB_WAZO_WEBHOOK_SECRET` and is compared in constant time; a wrong or missing one gets the same 404 as any
 * unknown path. Answers 2xx only after the event is durably queued, 410 for events we will never accept (so
 * webhookd stops retrying), 503 while the connector cannot take events (webhookd retries).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { Logger } from '../log.ts';
import { parseChatEvent, type WazoChatEvent } from './schemas.ts';

export interface WebhookAppOptions {
  secret: string;
  /** Handles one parsed event; resolves once it is durably queued (or deliberately dropped). */
  handle: (event: WazoChatEvent) => Promise<unknown>;
  log: Logger;
  /** Largest body accepted (webhookd's body template is ≤ 16 KiB; messages can be longer). */
  maxBytes?: number;
}

const NOT_FOUND = { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' };

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function createWebhookApp(opts: WebhookAppOptions): Hono {
  const app = new Hono();
  const expected = digest(opts.secret);
  const maxBytes = opts.maxBytes ?? 1024 * 1024;

  app.post('/events/:secret', async (c) => {
    if (!timingSafeEqual(digest(c.req.param('secret')), expected)) return c.json(NOT_FOUND, 404);
    const text = await c.req.text();
    if (text.length > maxBytes) return c.json({ error: 'body too large' }, 410);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // A body that is not JSON will never become acceptable: 410 stops webhookd's retries.
      opts.log.warn({ bytes: text.length }, 'wazo webhook: body is not JSON');
      return c.json({ error: 'body is not JSON' }, 410);
    }
    const parsed = parseChatEvent(raw);
    if (!parsed.ok) {
      opts.log.warn({ reason: parsed.reason, detail: parsed.detail.slice(0, 300) }, 'wazo webhook: event refused');
      return c.json({ error: parsed.reason === 'unknown-event' ? 'event not handled' : 'invalid event' }, 410);
    }
    try {
      await opts.handle(parsed.event);
    } catch (err) {
      opts.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'wazo webhook: event not queued; webhookd will retry',
      );
      return c.json({ error: 'temporarily unavailable' }, 503);
    }
    return c.json({}, 200);
  });
  app.all('/events/*', (c) => c.json(NOT_FOUND, 404));
  return app;
}
