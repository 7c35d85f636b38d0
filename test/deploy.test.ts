import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { envName, knownEnvNames, loadConfig, SECRET_KEYS } from '../src/config/index.ts';

/** `KEY=VALUE` lines of deploy/.env.example. */
function envExample(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync('deploy/.env.example', 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** The runtime stage's `ENV` of the Dockerfile (KEY=VALUE pairs, with line continuations). */
function dockerfileEnv(dockerfile: string): Record<string, string> {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const out: Record<string, string> = {};
  for (const m of runtime.replace(/\\\n/g, ' ').matchAll(/^ENV (.+)$/gm))
    for (const pair of m[1].trim().split(/\s+/)) {
      const [k, ...v] = pair.split('=');
      out[k] = v.join('=');
    }
  return out;
}

describe('deployment kit', () => {
  const compose = parse(readFileSync('deploy/docker-compose.yml', 'utf8')) as {
    services: Record<string, { image?: string; build?: unknown; environment?: Record<string, string> }>;
  };
  const dockerfile = readFileSync('Dockerfile', 'utf8');

  /** The bridge container's environment with deploy/.env as shipped: the image's ENV, then compose's. */
  function bridgeEnv(): Record<string, string> {
    const dotenv = envExample();
    const env = { ...dockerfileEnv(dockerfile) };
    for (const [k, v] of Object.entries(compose.services.bridge.environment ?? {}))
      env[k] = v.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, def?: string) => dotenv[name] || def || '');
    return env;
  }

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

  it('starts with deploy/config.toml and deploy/.env as shipped, in the paths the walkthrough uses', () => {
    // Every section, as `start` validates them, in the environment the container really gets.
    const c = loadConfig({ path: 'deploy/config.toml', env: bridgeEnv() });
    // The image must not override what deploy/config.toml says (env beats the file).
    assert.equal(c.appservice.registration, '/appservices/matrix-crm-bridge.yaml');
    assert.equal(c.database.url, 'sqlite:/data/bridge.db');
    assert.equal(c.http.host, '0.0.0.0');
  });

  it('passes every secret to the bridge from deploy/.env, and only variables the bridge reads', () => {
    const env = compose.services.bridge.environment ?? {};
    const dotenv = envExample();
    const known = knownEnvNames();
    for (const a of loadConfig({ path: 'deploy/config.toml', env: {} }).sync.accounts)
      if (a.access_token_env) known.add(a.access_token_env);
    for (const key of Object.keys(SECRET_KEYS)) {
      const [section, name] = key.split('.');
      const v = envName(section, name);
      assert.ok(v in env, `docker-compose.yml: the bridge gets no ${v}`);
      assert.ok(v in dotenv, `.env.example lacks ${v}`);
    }
    for (const v of Object.keys(env).filter((k) => k.startsWith('MCB_')))
      assert.ok(known.has(v), `docker-compose.yml sets ${v}, which the bridge does not read`);
  });

  it('has a Dockerfile whose COPY sources exist, that runs as a non-root user with /data writable', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    for (const m of runtime.matchAll(/^COPY (?!--from)(.+)$/gm)) {
      const parts = m[1].trim().split(/\s+/);
      for (const src of parts.slice(0, -1)) assert.ok(existsSync(src), `Dockerfile: COPY ${src}: no such file`);
    }
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', 'the image runs as a non-root user');
    assert.match(runtime, new RegExp(`chown ${user}:\\S+ /data`), '/data belongs to the runtime user');
    assert.match(runtime, /^VOLUME \["\/data"\]$/m);
    // The image's default config is config.toml with the loopback bind replaced by a sed on this very line.
    assert.match(runtime, /ln -s \/data \/app\/data/, './data of the shipped defaults is the volume');
    assert.match(readFileSync('config.toml', 'utf8'), /^host = "127\.0\.0\.1"$/m);
    const hc = /^HEALTHCHECK [^\n]*\\\n\s*CMD \["node", "([^"]+)"\]/m.exec(runtime);
    assert.ok(hc, 'HEALTHCHECK runs a node script');
    assert.ok(existsSync(hc[1]), `HEALTHCHECK script ${hc[1]} exists`);
    // The image's own variables would beat the operator's config file: none may set a config key but the file path.
    for (const k of Object.keys(dockerfileEnv(dockerfile)))
      assert.ok(!k.startsWith('MCB_') || k === 'MCB_CONFIG', `Dockerfile ENV ${k} would override config.toml`);
    // The .dockerignore keeps deploy/ (its .env and registrations hold secrets) out of the build context.
    assert.match(readFileSync('.dockerignore', 'utf8'), /^deploy$/m);
  });

  it('has a HEALTHCHECK script that asks /health on the [http] host and port of the config', async () => {
    let status = 200;
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? status : 404).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'mcb-health-'));
    const config = join(dir, 'config.toml');
    // A wildcard bind is asked on loopback.
    writeFileSync(config, `[http]\nhost = "0.0.0.0"\nport = ${port}\n`);
    const check = (env: Record<string, string> = {}) =>
      new Promise<number | null>((resolve) => {
        const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MCB_')));
        const child = spawn(process.execPath, ['scripts/healthcheck.mjs'], {
          env: { ...base, MCB_CONFIG: config, ...env },
          stdio: 'ignore',
        });
        child.on('exit', resolve);
      });
    try {
      assert.equal(await check(), 0, 'port from config.toml');
      writeFileSync(config, '[http]\nport = 1\n');
      assert.equal(await check({ MCB_HTTP_PORT: String(port) }), 0, 'port from MCB_HTTP_PORT');
      status = 503;
      assert.equal(await check({ MCB_HTTP_PORT: String(port) }), 1, 'a 503 is unhealthy');
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(await check({ MCB_HTTP_PORT: String(port) }), 1, 'nothing listening is unhealthy');
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
