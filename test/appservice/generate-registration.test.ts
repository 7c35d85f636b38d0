import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../../src/cli/main.ts';
import { readRegistration } from '../../src/matrix/index.ts';

async function cli(args: string[]) {
  let err = '';
  const code = await runCli(args, { out: () => {}, err: (t) => (err += t), env: {}, interactive: false });
  process.exitCode = 0; // runCli sets the exit code of this (test) process
  return { code, err };
}

describe('generate-registration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcb-reg-'));
  const config = join(dir, 'config.toml');
  const out = join(dir, 'reg.yaml');
  writeFileSync(
    config,
    `[homeserver]\ndomain = "example.org"\n[appservice]\nid = "wazo"\nurl = "http://127.0.0.1:29340"\nbot_localpart = "wazobot"\nghost_prefix = "wazo_"\nregistration = "${out}"\n`,
  );

  it('writes a valid block-YAML registration with fresh 64-hex tokens and anchored, escaped, exclusive namespaces', async () => {
    const r = await cli(['generate-registration', '--config', config]);
    assert.equal(r.code, 0, r.err);
    const text = readFileSync(out, 'utf8');
    assert.doesNotMatch(text, /\{ *regex/, 'block style, not flow style');
    const reg = parse(text);
    assert.match(reg.as_token, /^[0-9a-f]{64}$/);
    assert.match(reg.hs_token, /^[0-9a-f]{64}$/);
    assert.notEqual(reg.as_token, reg.hs_token);
    assert.equal(reg.id, 'wazo');
    assert.equal(reg.url, 'http://127.0.0.1:29340');
    assert.equal(reg.sender_localpart, 'wazobot');
    assert.deepEqual(reg.namespaces.users, [
      { regex: '^@wazobot:example\\.org$', exclusive: true },
      { regex: '^@wazo_.*:example\\.org$', exclusive: true },
    ]);
    assert.deepEqual(reg.namespaces.aliases, [{ regex: '^#wazo_.*:example\\.org$', exclusive: true }]);
    assert.equal(reg.rate_limited, false);
    assert.equal(reg.receive_ephemeral, true);
    assert.equal(reg['de.sorunome.msc2409.push_ephemeral'], true);
    assert.ok(new RegExp(reg.namespaces.users[1].regex).test('@wazo_abc:example.org'));
    assert.ok(!new RegExp(reg.namespaces.users[1].regex).test('@wazo_abc:exampleXorg'));
    assert.deepEqual(readRegistration(out).as_token, reg.as_token);
  });

  it('keeps existing tokens unless --force, and -o writes elsewhere', async () => {
    const before = parse(readFileSync(out, 'utf8'));
    assert.equal((await cli(['generate-registration', '--config', config])).code, 0);
    assert.equal(parse(readFileSync(out, 'utf8')).hs_token, before.hs_token);
    assert.equal((await cli(['generate-registration', '--config', config, '--force'])).code, 0);
    assert.notEqual(parse(readFileSync(out, 'utf8')).hs_token, before.hs_token);
    const other = join(dir, 'other.yaml');
    assert.equal((await cli(['generate-registration', '--config', config, '-o', other])).code, 0);
    assert.match(parse(readFileSync(other, 'utf8')).as_token, /^[0-9a-f]{64}$/);
  });

  it('start without a registration file says to run generate-registration', async () => {
    const cfg2 = join(dir, 'c2.toml');
    writeFileSync(
      cfg2,
      `[appservice]\nregistration = "${join(dir, 'missing.yaml')}"\n[database]\nurl = "sqlite::memory:"\n[http]\nport = 0\n`,
    );
    const r = await cli(['start', '--config', cfg2]);
    assert.equal(r.code, 2);
    assert.match(r.err, /generate-registration/);
  });

  it('start with an incomplete registration file names the file and the missing fields', async () => {
    const partial = join(dir, 'partial.yaml');
    writeFileSync(partial, 'id: x\n');
    const cfg3 = join(dir, 'c3.toml');
    writeFileSync(
      cfg3,
      `[appservice]\nregistration = "${partial}"\n[database]\nurl = "sqlite::memory:"\n[http]\nport = 0\n`,
    );
    const r = await cli(['start', '--config', cfg3]);
    assert.equal(r.code, 2);
    for (const field of ['url', 'as_token', 'hs_token'])
      assert.match(
        r.err,
        new RegExp(`${partial.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid registration .*: ${field}:`),
      );
  });

  it('writes the double-puppeting registration: no URL, non-exclusive namespace over local users, tokens kept', async () => {
    const dp = join(dir, 'double-puppet.yaml');
    const r = await cli(['generate-registration', '--double-puppet', '-o', dp, '--config', config]);
    assert.equal(r.code, 0, r.err);
    const reg = readRegistration(dp);
    assert.equal(reg.id, 'wazo-double-puppet');
    assert.equal(reg.url, null);
    assert.deepEqual(reg.namespaces.users, [{ regex: '^@.*:example\\.org$', exclusive: false }]);
    assert.match(reg.as_token, /^[0-9a-f]{64}$/);
    const again = await cli(['generate-registration', '--double-puppet', '-o', dp, '--config', config]);
    assert.equal(again.code, 0);
    assert.equal(readRegistration(dp).as_token, reg.as_token);
    const none = await cli(['generate-registration', '--double-puppet', '--config', config]);
    assert.equal(none.code, 2);
    assert.match(none.err, /needs -o FILE or \[bridge\.double_puppet\] registration/);
  });
});
