import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Hono } from 'hono';
import { BadRequestError } from '../errors.ts';
import { HealthRegistry } from '../health.ts';
import { silentLogger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { createApp } from './app.ts';
import { createReportApp, type ReportQuery } from './report.ts';

function build() {
  const seen: ReportQuery[] = [];
  const report = createReportApp({
    token: 'report-token-123456',
    render: (q) => {
      seen.push(q);
      if (q.since === 'soon') throw new BadRequestError('since must be a duration', 'M_INVALID_PARAM');
      return {
        body: q.format === 'json' ? '{"conversations":[]}' : '<!doctype html><title>r</title>',
        contentType: q.format === 'json' ? 'application/json' : 'text/html',
      };
    },
  });
  const app: Hono = createApp({
    version: 't',
    health: new HealthRegistry(),
    metrics: createMetricsRegistry({ processMetrics: false }),
    log: silentLogger,
    maxBodyBytes: 1024,
    databaseOk: () => true,
    mounts: [{ path: '/', app: report }],
  });
  return { app, seen };
}

describe('GET /report', () => {
  it('needs the bearer token: none → 401, wrong → 403', async () => {
    const { app, seen } = build();
    assert.equal((await app.request('/report')).status, 401);
    assert.equal((await app.request('/report', { headers: { authorization: 'Bearer nope' } })).status, 403);
    assert.equal(seen.length, 0);
  });

  it('renders HTML by default and JSON on request, passing the filters', async () => {
    const { app, seen } = build();
    const auth = { authorization: 'Bearer report-token-123456' };
    const html = await app.request('/report', { headers: auth });
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const json = await app.request('/report?format=json&since=7d&channel=wazo', { headers: auth });
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), { conversations: [] });
    assert.deepEqual(seen[1], { format: 'json', since: '7d', channel: 'wazo' });
  });

  it('answers 400 with a JSON error for bad parameters', async () => {
    const { app } = build();
    const auth = { authorization: 'Bearer report-token-123456' };
    const bad = await app.request('/report?format=pdf', { headers: auth });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errcode: string }).errcode, 'M_INVALID_PARAM');
    assert.equal((await app.request('/report?since=soon', { headers: auth })).status, 400);
  });
});
