import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/index.ts';

describe('deployment kit', () => {
  const compose = parse(readFileSync('deploy/docker-compose.yml', 'utf8')) as {
    services: Record<string, { image?: string; build?: unknown }>;
  };

  it('runs Synapse, mautrix-whatsapp, their PostgreSQL, Twenty (server, worker, db, redis) and the bridge', () => {
    for (const s of [
      'matrix-db',
      'synapse',
      'mautrix-whatsapp',
      'twenty-db',
      'twenty-redis',
      'twenty-server',
      'twenty-worker',
      'bridge',
    ]) {
      assert.ok(compose.services[s], `service ${s} missing`);
    }
    assert.ok(compose.services.bridge.build, 'the bridge is built from this repository');
  });

  it('ships a bridge config that passes validation', () => {
    const c = loadConfig({ path: 'deploy/config.toml', env: {} });
    assert.equal(c.homeserver.url, 'http://synapse:8008');
    assert.equal(c.twenty.url, 'http://twenty-server:3000');
    assert.equal(c.appservice.registration, '/appservices/matrix-crm-bridge.yaml');
  });

  it('is a valid compose file for docker-compose', (t) => {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (probe.error) {
      t.skip('docker-compose is not installed (apt-get install docker-compose); .ci/run installs it');
      return;
    }
    const r = spawnSync(
      'docker-compose',
      ['--env-file', 'deploy/.env.example', '-f', 'deploy/docker-compose.yml', 'config', '-q'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  });
});
