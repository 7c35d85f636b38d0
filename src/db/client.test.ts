import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase, sqlitePath } from './client.ts';
import { latestJobRuns, recordJobRun } from './job-runs.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'mcb-db-'));

describe('openDatabase', () => {
  it('applies the migrations to an empty database, and again idempotently', () => {
    const file = join(tmp(), 'nested', 'bridge.db');
    const first = openDatabase(`sqlite:${file}`);
    const tables = first.sqlite.prepare("select name from sqlite_master where type = 'table'").all() as {
      name: string;
    }[];
    const names = tables.map((t) => t.name);
    for (const t of ['job_runs', 'history_events', 'conversations', 'message_classifications'])
      assert.ok(names.includes(t), `${t} missing`);
    const applied = (first.sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n;
    first.close();
    const second = openDatabase(`sqlite:${file}`);
    assert.equal(
      (second.sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n,
      applied,
    );
    assert.equal(second.sqlite.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(second.sqlite.pragma('foreign_keys', { simple: true }), 1);
    second.close();
    second.close();
  });

  it('parses sqlite URLs and refuses others with the key name', () => {
    assert.equal(sqlitePath('sqlite::memory:'), ':memory:');
    assert.match(sqlitePath('sqlite:./data/x.db'), /data\/x\.db$/);
    assert.throws(() => sqlitePath('postgres://x'), /database\.url: unsupported database/);
  });

  it('lets a second process read while this one writes', async () => {
    const file = join(tmp(), 'shared.db');
    const h = openDatabase(`sqlite:${file}`);
    const insert = h.sqlite.prepare(
      "insert into job_runs (job, trigger, started_at, status) values ('sync', 'cli', ?, 'ok')",
    );
    insert.run(1);
    // Hold a write transaction open while another process reads: WAL lets readers see the last commit.
    h.sqlite.exec('begin immediate');
    insert.run(2);
    const reader = `
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(${JSON.stringify(file)}, { readonly: true });
      db.pragma('busy_timeout = 2000');
      process.stdout.write(String(db.prepare('select count(*) as n from job_runs').get().n));
      db.close();`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', reader], { cwd: process.cwd() });
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(buf) : reject(new Error(`reader exited ${code}`))));
    });
    h.sqlite.exec('commit');
    assert.equal(out, '1');
    assert.equal((h.sqlite.prepare('select count(*) as n from job_runs').get() as { n: number }).n, 2);
    h.close();
  });
});

describe('recordJobRun', () => {
  it('records successful and failed runs with counts and error', async () => {
    const h = openDatabase('sqlite::memory:');
    let t = 1000;
    const clock = () => (t += 10);
    await recordJobRun(h.db, 'sync', 'cli', async () => ({ rooms: 2, events: 40 }), clock);
    await assert.rejects(
      recordJobRun(
        h.db,
        'sync',
        'cron',
        async () => {
          throw new Error('homeserver unreachable');
        },
        clock,
      ),
      /homeserver unreachable/,
    );
    const runs = latestJobRuns(h.db, 'sync');
    assert.equal(runs.length, 2);
    assert.equal(runs[0].status, 'failed');
    assert.match(runs[0].error ?? '', /homeserver unreachable/);
    assert.deepEqual(runs[1].counts, { rooms: 2, events: 40 });
    assert.equal(runs[1].status, 'ok');
    assert.ok(runs[1].finishedAt! > runs[1].startedAt);
    h.close();
  });
});
