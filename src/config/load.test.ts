import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import { parseDuration } from './duration.ts';
import { loadConfig } from './load.ts';

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcb-config-'));
  const path = join(dir, 'config.toml');
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems.join('\n');
  }
  assert.fail('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('loads the shipped config.toml with its defaults', () => {
    const c = loadConfig({ path: 'config.toml', env: {} });
    assert.equal(c.http.port, 29330);
    assert.equal(c.database.url, 'sqlite:./data/bridge.db');
    assert.equal(c.twenty.url, '');
    assert.deepEqual([...c.nlp.languages], ['en', 'fr']);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.http) && Object.isFrozen(c.nlp.languages));
  });

  it('loads the shipped config.toml with its [[sync.accounts]] example uncommented', () => {
    const text = readFileSync('config.toml', 'utf8').replace(
      /^# (\[\[sync\.accounts\]\]|user_id = |access_token_env = |appservice = )/gm,
      '$1',
    );
    const c = loadConfig({ path: writeConfig(text), env: {} });
    assert.equal(c.sync.accounts.length, 2);
    assert.equal(c.sync.accounts[0].access_token_env, 'MCB_SYNC_SUPPORT_TOKEN');
    assert.equal(c.sync.accounts[1].appservice, true);
    assert.equal(c.sync.backfill_days, 90);
  });

  it('accepts a minimal file with only the sections sync/classify/export need', () => {
    const path = writeConfig(`
[homeserver]
url = "https://matrix.example.org"
domain = "example.org"
[database]
url = "sqlite::memory:"
[[sync.accounts]]
user_id = "@support:example.org"
access_token_env = "SUPPORT_TOKEN"
[twenty]
url = "http://localhost:3000"
`);
    const c = loadConfig({ path, env: {} });
    assert.equal(c.homeserver.domain, 'example.org');
    assert.equal(c.sync.accounts[0].user_id, '@support:example.org');
    assert.equal(c.twenty.batch_size, 60);
    assert.equal(c.appservice.bot_localpart, 'crmbridge');
  });

  it('names the file and key of an unknown key', () => {
    const path = writeConfig('[http]\nprot = 8080\n');
    const msg = problemsOf(() => loadConfig({ path, env: {} }));
    assert.match(msg, /config\.toml: http: unknown key "prot"/);
  });

  it('names the key and the expected form of a wrong type', () => {
    const path = writeConfig('[http]\nport = "eighty"\n');
    const msg = problemsOf(() => loadConfig({ path, env: {} }));
    assert.match(msg, /http\.port: expected number, got "eighty"/);
  });

  it('rejects an unknown section and a bad duration', () => {
    const path = writeConfig('[twnety]\nurl = "x"\n[sync]\nconversation_gap = "soon"\n');
    const msg = problemsOf(() => loadConfig({ path, env: {} }));
    assert.match(msg, /unknown section \[twnety\]/);
    assert.match(msg, /sync\.conversation_gap: expected a duration/);
  });

  it('reports invalid TOML with its position', () => {
    const path = writeConfig('[http]\nport = \n');
    const msg = problemsOf(() => loadConfig({ path, env: {} }));
    assert.match(msg, /not valid TOML at line 2/);
  });

  it('refuses secrets written in the file and says which variable to use', () => {
    const path = writeConfig('[twenty]\napi_key = "abc"\n');
    const msg = problemsOf(() => loadConfig({ path, env: {} }));
    assert.match(msg, /\[twenty\] api_key is a secret .* set MCB_TWENTY_API_KEY or MCB_TWENTY_API_KEY_FILE/);
  });

  it('lets environment variables win over the file, coerced to the key type', () => {
    const path = writeConfig('[http]\nport = 1000\n[bridge]\nrelay = true\n[nlp]\nlanguages = ["en"]\n');
    const c = loadConfig({
      path,
      env: {
        MCB_HTTP_PORT: '8080',
        MCB_BRIDGE_RELAY: 'false',
        MCB_NLP_LANGUAGES: '["fr","en"]',
        MCB_HOMESERVER_URL: 'https://hs.example',
      },
    });
    assert.equal(c.http.port, 8080);
    assert.equal(c.bridge.relay, false);
    assert.deepEqual([...c.nlp.languages], ['fr', 'en']);
    assert.equal(c.homeserver.url, 'https://hs.example');
  });

  it('names the variable of a badly typed environment override', () => {
    const msg = problemsOf(() => loadConfig({ path: 'config.toml', env: { MCB_HTTP_PORT: 'abc' } }));
    assert.match(msg, /MCB_HTTP_PORT: expected a number, got "abc"/);
  });

  it('reads secrets from *_FILE variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-secret-'));
    writeFileSync(join(dir, 'key'), 'twenty-secret-key\n');
    const c = loadConfig({ path: 'config.toml', env: { MCB_TWENTY_API_KEY_FILE: join(dir, 'key') } });
    assert.equal(c.twenty.api_key, 'twenty-secret-key');
  });

  it('names an unreadable *_FILE', () => {
    const msg = problemsOf(() =>
      loadConfig({ path: 'config.toml', env: { MCB_TWENTY_API_KEY_FILE: '/nonexistent/key' } }),
    );
    assert.match(msg, /MCB_TWENTY_API_KEY_FILE: cannot read \/nonexistent\/key/);
  });

  it('only fails for the sections a command uses', () => {
    const path = writeConfig('[wazo]\nurll = "x"\n[database]\nurl = "sqlite::memory:"\n');
    const ignored: string[] = [];
    const c = loadConfig({ path, env: {}, sections: ['database', 'nlp'], onIgnoredProblem: (m) => ignored.push(m) });
    assert.equal(c.database.url, 'sqlite::memory:');
    assert.equal(c.wazo.url, '');
    assert.match(ignored.join('\n'), /wazo: unknown key "urll"/);
    assert.throws(() => loadConfig({ path, env: {}, sections: ['wazo'] }), ConfigError);
  });

  it('fails when --config names a missing file', () => {
    const msg = problemsOf(() => loadConfig({ path: '/nonexistent/config.toml', env: {} }));
    assert.match(msg, /config file \/nonexistent\/config\.toml does not exist/);
  });

  it('names the environment variable, not the file, when an overriding value is invalid', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ MCB_HTTP_PORT: '70000' }, /^MCB_HTTP_PORT: http\.port: Too big/m],
      [{ MCB_HOMESERVER_URL: 'matrix.example.org' }, /^MCB_HOMESERVER_URL: homeserver\.url: Invalid URL/m],
      [{ MCB_LOGGING_LEVEL: 'verbose' }, /^MCB_LOGGING_LEVEL: logging\.level: .*"info"/m],
      [{ MCB_DATABASE_URL: 'postgres://db/x' }, /^MCB_DATABASE_URL: database\.url: expected "sqlite:<path>"/m],
    ];
    for (const [env, re] of cases)
      assert.match(
        problemsOf(() => loadConfig({ path: 'config.toml', env })),
        re,
      );
  });

  it('rejects a bad cron expression or time zone in [jobs] at load time, naming the key', () => {
    const path = writeConfig('[jobs]\nsync = "every minute"\ntimezone = "Mars/Base"\n');
    const msg = problemsOf(() => loadConfig({ path, env: {} }));
    assert.match(msg, /config\.toml: jobs\.sync: expected a cron expression such as "\*\/5 \* \* \* \*"/);
    assert.match(msg, /config\.toml: jobs\.timezone: expected an IANA time zone/);
    const env = problemsOf(() => loadConfig({ path: 'config.toml', env: { MCB_JOBS_EXPORT: '61 * * * *' } }));
    assert.match(env, /^MCB_JOBS_EXPORT: jobs\.export: expected a cron expression/m);
    const ok = loadConfig({
      path: 'config.toml',
      env: { MCB_JOBS_SYNC: '0 */2 * * * *', MCB_JOBS_TIMEZONE: 'Europe/Paris' },
    });
    assert.equal(ok.jobs.sync, '0 */2 * * * *');
  });

  it('treats an empty secret variable as unset (compose passes ${VAR:-}) and names an empty *_FILE', () => {
    const c = loadConfig({
      path: 'config.toml',
      env: { MCB_TWENTY_API_KEY: '', MCB_BRIDGE_ENCRYPTION_KEY: '', MCB_HTTP_REPORT_TOKEN_FILE: '' },
    });
    assert.equal(c.twenty.api_key, undefined);
    assert.equal(c.bridge.encryption_key, undefined);
    assert.equal(c.http.report_token, undefined);
    const dir = mkdtempSync(join(tmpdir(), 'mcb-secret-'));
    writeFileSync(join(dir, 'empty'), '\n');
    const msg = problemsOf(() =>
      loadConfig({ path: 'config.toml', env: { MCB_TWENTY_API_KEY_FILE: join(dir, 'empty') } }),
    );
    assert.match(msg, /MCB_TWENTY_API_KEY_FILE: .*empty is empty \(it should hold twenty\.api_key\)/);
  });

  it('overrides the keys of nested tables with MCB_<SECTION>_<TABLE>_<KEY>', () => {
    const c = loadConfig({
      path: 'config.toml',
      env: {
        MCB_BRIDGE_DOUBLE_PUPPET_ENABLED: 'true',
        MCB_BRIDGE_DOUBLE_PUPPET_REGISTRATION: '/data/dp.yaml',
        MCB_SYNC_ROOMS_CHANNELS: 'whatsapp',
        MCB_SYNC_ROOMS_EXCLUDE: '["!a:example.org"]',
      },
    });
    assert.equal(c.bridge.double_puppet.enabled, true);
    assert.equal(c.bridge.double_puppet.registration, '/data/dp.yaml');
    assert.deepEqual([...c.sync.rooms.channels], ['whatsapp']);
    assert.deepEqual([...c.sync.rooms.exclude], ['!a:example.org']);
    const msg = problemsOf(() => loadConfig({ path: 'config.toml', env: { MCB_SYNC_ROOMS_CHANNELS: 'sms' } }));
    assert.match(msg, /^MCB_SYNC_ROOMS_CHANNELS: sync\.rooms\.channels\.0: /m);
  });

  it('warns about MCB_* variables that match no key, except the sync accounts’ token variables', () => {
    const path = writeConfig(
      '[[sync.accounts]]\nuser_id = "@s:example.org"\naccess_token_env = "MCB_SYNC_SUPPORT_TOKEN"\n',
    );
    const warnings: string[] = [];
    loadConfig({
      path,
      env: { MCB_HTTP_PORTT: '1', MCB_SYNC_SUPPORT_TOKEN: 'tok', MCB_CONFIG: path, MCB_TWENTY_API_KEY_FILE: '' },
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /environment variable MCB_HTTP_PORTT matches no config key/);
  });

  it('uses MCB_CONFIG when no path is given', () => {
    const path = writeConfig('[http]\nport = 4242\n');
    assert.equal(loadConfig({ env: { MCB_CONFIG: path } }).http.port, 4242);
  });
});

describe('parseDuration', () => {
  it('parses units and compounds, rejects junk', () => {
    assert.equal(parseDuration('4h'), 4 * 3_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('4 hours'), undefined);
    assert.equal(parseDuration(''), undefined);
  });
});
