import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { BadRequestError } from '../errors.ts';
import { HealthRegistry } from '../health.ts';
import { createLogger, silentLogger } from '../log.ts';
import { Counter, createMetricsRegistry } from '../metrics.ts';
import { createApp } from './app.ts';

function build(overrides: { databaseOk?: () => boolean; mounts?: { path: string; app: Hono }[] } = {}) {
  const metrics = createMetricsRegistry();
  new Counter({ name: 'mcb_test_things_total', help: 'things', registers: [metrics] }).inc(3);
  const health = new HealthRegistry();
  health.declare('homeserver', true);
  health.declare('twenty', false);
  const app = createApp({
    version: '9.9.9',
    health,
    metrics,
    log: silentLogger,
    maxBodyBytes: 1024,
    databaseOk: overrides.databaseOk ?? (() => true),
    mounts: overrides.mounts,
  });
  return { app, health };
}

describe('http app', () => {
  it('answers /health with version, database and upstream states', async () => {
    const { app, health } = build();
    health.ok('homeserver', 1234);
    const res = await app.request('/health');
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(body.version, '9.9.9');
    assert.deepEqual(body.database, { ok: true });
    const up = body.upstreams as Record<string, { state: string; lastSeen: number; configured: boolean }>;
    assert.equal(up.homeserver.state, 'ok');
    assert.equal(up.homeserver.lastSeen, 1234);
    assert.equal(up.twenty.configured, false);
  });

  it('reports degraded upstreams and a broken database', async () => {
    const { app, health } = build({
      databaseOk: () => {
        throw new Error('disk I/O error');
      },
    });
    health.fail('homeserver', 'connection refused');
    const res = await app.request('/health');
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { status: string }).status, 'unhealthy');
  });

  it('serves Prometheus text on /metrics', async () => {
    const { app } = build();
    const res = await app.request('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /mcb_test_things_total 3/);
    assert.match(text, /mcb_process_resident_memory_bytes/);
  });

  it('rejects an oversized body with 413 and a JSON error', async () => {
    const sub = new Hono();
    sub.post('/echo', async (c) => c.json(await c.req.json()));
    const { app } = build({ mounts: [{ path: '/x', app: sub }] });
    const small = await app.request('/x/echo', {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(small.status, 200);
    const big = await app.request('/x/echo', {
      method: 'POST',
      body: JSON.stringify({ a: 'x'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { errcode: string }).errcode, 'M_TOO_LARGE');
  });

  it('answers unknown routes with a Matrix-style 404', async () => {
    const { app } = build();
    const res = await app.request('/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });

  it('maps AppErrors to their status and hides unexpected errors', async () => {
    const sub = new Hono();
    sub.get('/bad', () => {
      throw new BadRequestError('events must be an array', 'M_BAD_JSON');
    });
    sub.get('/boom', () => {
      throw new Error('secret internals');
    });
    const { app } = build({ mounts: [{ path: '/t', app: sub }] });
    const bad = await app.request('/t/bad');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { errcode: 'M_BAD_JSON', error: 'events must be an array' });
    const boom = await app.request('/t/boom');
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { errcode: 'M_UNKNOWN', error: 'Internal server error' });
  });
});

describe('logger', () => {
  it('never writes registered secrets or secret-named fields', async () => {
    const { registerSecret } = await import('../log.ts');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ level: 'debug', format: 'json', destination: sink });
    registerSecret('s3cr3t-hs-token-value');
    log.info({ access_token: 'abc123456', headers: { authorization: 'Bearer zzz999999' } }, 'request');
    log.warn({ detail: 'failed with token s3cr3t-hs-token-value in url' }, 'oops');
    log.error({ err: new Error('auth failed for s3cr3t-hs-token-value') }, 'boom');
    const all = lines.join('');
    assert.ok(!all.includes('s3cr3t-hs-token-value'));
    assert.ok(!all.includes('abc123456'));
    assert.ok(!all.includes('zzz999999'));
    assert.match(all, /\[REDACTED\]/);
    const first = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(first.level, 'info');
    assert.equal(first.msg, 'request');
    assert.ok(typeof first.time === 'string');
  });
});
