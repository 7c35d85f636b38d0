import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { runCli } from '../../src/cli/main.ts';

const REQUIRED = [
  'start',
  'generate-registration',
  'migrate',
  'sync',
  'classify',
  'export',
  'report',
  'nlp train',
  'nlp evaluate',
  'nlp classify',
  'demo',
];

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: { ...env },
    stdin: new PassThrough(),
    interactive: false,
  });
  process.exitCode = 0;
  return { code, out, err };
}

describe('cli', () => {
  it('has every command the operators rely on', () => {
    const names = COMMANDS.map((c) => c.name);
    for (const r of REQUIRED) assert.ok(names.includes(r), `command "${r}" missing`);
  });

  it('prints --help for every command on stdout and exits 0', async () => {
    const top = await cli(['--help']);
    assert.equal(top.code, 0);
    for (const c of COMMANDS) {
      assert.match(top.out, new RegExp(`  ${c.name.replace(' ', ' ')}\\s`));
      const r = await cli([...c.name.split(' '), '--help']);
      assert.equal(r.code, 0, `${c.name} --help exited ${r.code}: ${r.err}`);
      assert.match(r.out, new RegExp(`Usage: matrix-crm-bridge ${c.name}`));
    }
  });

  it('rejects unknown commands and options with a usage error', async () => {
    const a = await cli(['frobnicate']);
    assert.equal(a.code, 2);
    assert.match(a.err, /unknown command "frobnicate"/);
    const b = await cli(['migrate', '--bogus']);
    assert.equal(b.code, 2);
    assert.match(b.err, /Unknown option '--bogus'/);
    const c = await cli(['report', '--since']);
    assert.equal(c.code, 2);
    assert.match(c.err, /'--since <value>' argument missing\nUsage: matrix-crm-bridge report /);
    const d = await cli(['start', 'extra']);
    assert.equal(d.code, 2);
    assert.match(d.err, /Unexpected argument 'extra'/);
    const e = await cli(['--config']);
    assert.equal(e.code, 2);
    assert.match(e.err, /--config needs a file path/);
    // A command group without its sub-command: a usage error, the list of sub-commands on stderr.
    const f = await cli(['nlp']);
    assert.equal(f.code, 2);
    assert.equal(f.out, '');
    assert.match(f.err, /Usage: matrix-crm-bridge nlp <command>[\s\S]*nlp train/);
  });

  it('shows every option of a command in its usage line', () => {
    for (const c of COMMANDS)
      for (const name of Object.keys(c.options))
        assert.ok(
          c.usage.includes(`--${name}`) || c.usage.includes(`-${c.options[name].short ?? '?'} `),
          `${c.name}: usage "${c.usage}" does not show --${name}`,
        );
  });

  it('accepts --config before or after the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-cli-'));
    const path = join(dir, 'c.toml');
    writeFileSync(path, `[database]\nurl = "sqlite:${join(dir, 'x.db')}"\n`);
    assert.equal((await cli(['--config', path, 'migrate'])).code, 0);
    assert.ok(existsSync(join(dir, 'x.db')));
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[database]\nurl = 5\n');
    const r = await cli(['migrate', `--config=${bad}`]);
    assert.equal(r.code, 2);
    assert.match(r.err, /database\.url: expected string/);
  });

  it('fails an unconfigured export with a message naming [twenty]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-cli-'));
    const path = join(dir, 'c.toml');
    writeFileSync(path, `[database]\nurl = "sqlite:${join(dir, 'x.db')}"\n`);
    const r = await cli(['export', '--config', path]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /\[twenty\]/);
  });
});

describe('start', () => {
  it('ends within 5 s of SIGTERM with exit code 0 and the database closed cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-start-'));
    const db = join(dir, 'bridge.db');
    const config = join(dir, 'config.toml');
    writeFileSync(
      config,
      `[http]\nport = 0\n[database]\nurl = "sqlite:${db}"\n[appservice]\nregistration = "${join(dir, 'registration.yaml')}"\n[homeserver]\nurl = "http://127.0.0.1:9"\n[logging]\nformat = "json"\n`,
    );
    const gen = await cli(['generate-registration', '--config', config]);
    assert.equal(gen.code, 0, gen.err);
    const child = spawn(process.execPath, ['src/cli/main.ts', 'start', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`start did not listen: ${stderr}`)), 20_000);
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('http server listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`start exited early (${code}): ${stderr}`)));
    });
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 5000, 'took longer than 5 s');
    assert.match(stderr, /stopped cleanly/);
    // A clean close checkpoints and removes the write-ahead log.
    assert.ok(!existsSync(`${db}-wal`), 'WAL file left behind');
  });
});
