import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
