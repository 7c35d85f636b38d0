/**
 * `GET /report`: the analyst report over HTTP, behind a bearer token (`MCB_HTTP_REPORT_TOKEN`). Mounted only
 * when the token is set. Query: `format` (html default, text, json), `since` (7d or an ISO date), `channel`.
 */
import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { BadRequestError } from '../errors.ts';

export interface ReportQuery {
  format: 'json' | 'text' | 'html';
  since?: string;
  channel?: string;
}

export interface ReportAppDeps {
  token: string;
  /** Renders the report; throws BadRequestError for invalid parameters. */
  render: (q: ReportQuery) => { body: string; contentType: string };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createReportApp(deps: ReportAppDeps): Hono {
  const app = new Hono();
  app.get('/report', (c) => {
    const header = c.req.header('authorization') ?? '';
    if (!header.startsWith('Bearer ')) {
      return c.json({ errcode: 'M_MISSING_TOKEN', error: 'Missing bearer token' }, 401, {
        'www-authenticate': 'Bearer',
      });
    }
    if (!sameSecret(header.slice(7), deps.token))
      return c.json({ errcode: 'M_FORBIDDEN', error: 'Invalid token' }, 403);
    const format = c.req.query('format') ?? 'html';
    if (format !== 'json' && format !== 'text' && format !== 'html') {
      throw new BadRequestError(`format must be json, text or html, got "${format}"`, 'M_INVALID_PARAM');
    }
    const { body, contentType } = deps.render({ format, since: c.req.query('since'), channel: c.req.query('channel') });
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });
  return app;
}
