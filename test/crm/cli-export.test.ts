import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import { openDatabase } from '../../src/db/index.ts';
import { FakeTwenty } from '../../src/testing/fake-twenty/index.ts';
import { addConversation, addCustomer } from './support.ts';

async function cli(args: string[], env: Record<string, string>) {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env,
    interactive: false,
  });
  return { code, out, err };
}

describe('export and forget commands', () => {
  it('export exits 2 naming [twenty] when the url is empty, and names MCB_TWENTY_API_KEY when the key is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-cli-'));
    try {
      const env = {
        MCB_CONFIG: join(dir, 'config.toml'),
        MCB_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
        MCB_LOGGING_LEVEL: 'silent',
      };
      writeFileSync(env.MCB_CONFIG, '');
      const off = await cli(['export'], env);
      assert.equal(off.code, 2);
      assert.match(off.err, /\[twenty\] url is empty/);
      const noKey = await cli(['export'], { ...env, MCB_TWENTY_URL: 'http://127.0.0.1:9' });
      assert.equal(noKey.code, 2);
      assert.match(noKey.err, /MCB_TWENTY_API_KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('export --dry-run prints counts and a sample on stdout; forget prints what it removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-cli-'));
    const twenty = new FakeTwenty();
    const url = await twenty.start();
    try {
      const dbUrl = `sqlite:${join(dir, 'db.sqlite')}`;
      const db = openDatabase(dbUrl);
      addCustomer(db, { key: 'tel:+33612345678', phone: '+33612345678', name: 'Ana' });
      addConversation(db, { customerKey: 'tel:+33612345678' });
      db.close();
      const env = {
        MCB_CONFIG: join(dir, 'config.toml'),
        MCB_DATABASE_URL: dbUrl,
        MCB_LOGGING_LEVEL: 'silent',
        MCB_TWENTY_URL: url,
        MCB_TWENTY_API_KEY: 'test-key',
      };
      writeFileSync(env.MCB_CONFIG, '');
      const dry = await cli(['export', '--dry-run'], env);
      assert.equal(dry.code, 0, dry.err);
      assert.match(dry.out, /dry run: 1 classified conversations; would create 2/);
      assert.match(dry.out, /"conversationKey"/);
      assert.equal(twenty.mutations().length, 0);
      const run = await cli(['export'], env);
      assert.equal(run.code, 0, run.err);
      assert.equal(twenty.rows('conversation').length, 1);
      const forget = await cli(['forget', '--customer', 'tel:+33612345678'], env);
      assert.equal(forget.code, 0, forget.err);
      assert.match(forget.out, /1 people, 1 conversations/);
      assert.match(forget.out, /local customers: 1 rows deleted/);
      assert.equal(twenty.rows('person').length, 0);
    } finally {
      await twenty.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
