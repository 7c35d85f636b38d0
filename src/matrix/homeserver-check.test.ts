import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthRegistry } from '../health.ts';
import { silentLogger } from '../log.ts';
import { FakeHomeserver } from '../testing/fake-homeserver/index.ts';
import { MatrixApi } from './api.ts';
import { checkHomeserverOnce, watchHomeserver } from './homeserver-check.ts';

const REG = {
  id: 'hc',
  url: null as string | null,
  as_token: 'c'.repeat(64),
  hs_token: 'd'.repeat(64),
  sender_localpart: 'hcbot',
  namespaces: { users: [] },
};
const api = (url: string, token = REG.as_token) =>
  new MatrixApi({ baseUrl: url, asToken: token, botUserId: '@hcbot:localhost', sleep: async () => {} });

describe('homeserver start-up check', () => {
  it('diagnoses an unreachable homeserver', async () => {
    const res = await checkHomeserverOnce({ api: api('http://127.0.0.1:9'), appserviceId: 'hc', appserviceUrl: '' });
    assert.equal(res.ok, false);
    assert.match(res.detail, /unreachable/);
  });

  it('diagnoses a registration that is not installed (unknown as_token)', async () => {
    const hs = await new FakeHomeserver().start();
    const res = await checkHomeserverOnce({ api: api(hs.url), appserviceId: 'hc', appserviceUrl: '' });
    assert.match(res.detail, /registration not installed/);
    await hs.stop();
  });

  it('diagnoses a homeserver that cannot call us back, then reports ok once it can (ping, with backoff)', async () => {
    const hs = await new FakeHomeserver().start();
    const reg = { ...REG, url: 'http://127.0.0.1:9' };
    hs.registerAppservice(reg);
    const health = new HealthRegistry();
    health.declare('homeserver', true);
    const waits: number[] = [];
    const controller = new AbortController();
    let details: string[] = [];
    await watchHomeserver({
      api: api(hs.url),
      appserviceId: 'hc',
      appserviceUrl: reg.url,
      health,
      log: silentLogger,
      signal: controller.signal,
      sleep: async (ms) => {
        waits.push(ms);
        details.push(health.snapshot().homeserver!.detail ?? '');
        // The operator fixes the URL: a tiny appservice answering the ping comes up.
        hs.pusher.ping = async () => ({ status: 200, body: {} });
      },
    });
    assert.match(details[0]!, /cannot call us back/);
    assert.deepEqual(waits, [1000]);
    assert.equal(health.snapshot().homeserver!.state, 'ok');
    assert.match(health.snapshot().homeserver!.detail!, /ping round-trip ok/);
    details = [];
    await hs.stop();
  });

  it('falls back to whoami when the homeserver has no appservice ping', async () => {
    const hs = await new FakeHomeserver().start();
    hs.registerAppservice({ ...REG, url: 'http://127.0.0.1:9' });
    hs.fail({
      path: /\/appservice\/hc\/ping$/,
      status: 404,
      body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' },
    });
    const res = await checkHomeserverOnce({ api: api(hs.url), appserviceId: 'hc', appserviceUrl: '' });
    assert.equal(res.ok, true);
    assert.match(res.detail, /no appservice ping/);
    await hs.stop();
  });
});
