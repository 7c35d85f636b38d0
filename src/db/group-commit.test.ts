import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.ts';
import { tuneConnection } from './pragmas.ts';

describe('group commit', () => {
  let dir: string;
  let file: string;
  let db: Database.Database;
  /** A second connection: sees only what is committed. */
  let other: Database.Database;
  let g: GroupCommit;
  const errors: unknown[] = [];
  const committed = () => (other.prepare('select count(*) as n from t').get() as { n: number }).n;
  const turn = () => new Promise<void>((r) => setImmediate(r));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcb-gc-'));
    file = join(dir, 'g.db');
    db = new Database(file);
    tuneConnection(db, file);
    db.exec('create table t (k text primary key, v integer not null check (v >= 0))');
    other = new Database(file, { readonly: true });
    errors.length = 0;
    g = new GroupCommit(db, (e) => errors.push(e));
  });
  afterEach(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the writes of one turn together, at the end of the turn', async () => {
    const ins = db.prepare('insert into t values (?, ?)');
    for (let i = 0; i < 10; i++) g.batch(() => ins.run(`k${i}`, i));
    assert.equal(committed(), 0, 'nothing is visible to others before the end of the turn');
    assert.equal((db.prepare('select count(*) as n from t').get() as { n: number }).n, 10, 'own reads see them');
    const durable = g.durable();
    await durable;
    assert.equal(committed(), 10);
    assert.equal(g.commits, 1);
    assert.equal(g.pending, false);
    await g.durable(); // nothing open: resolves at once
  });

  it('keeps each batch() atomic: a failing one rolls back alone, the others commit', async () => {
    const ins = db.prepare('insert into t values (?, ?)');
    g.batch(() => ins.run('a', 1));
    assert.throws(() =>
      g.batch(() => {
        ins.run('b', 2);
        ins.run('c', -1); // violates the check
      }),
    );
    g.batch(() => ins.run('d', 4));
    await g.durable();
    assert.deepEqual(
      (other.prepare('select k from t order by k').all() as { k: string }[]).map((r) => r.k),
      ['a', 'd'],
    );
  });

  it('now() makes a write durable on return, with the batch, and never inside another write', async () => {
    const ins = db.prepare('insert into t values (?, ?)');
    g.batch(() => ins.run('a', 1));
    g.now(() => {
      ins.run('b', 2);
      g.now(() => ins.run('c', 3)); // nested: committed by the outermost call
      assert.equal(committed(), 0);
    });
    assert.equal(committed(), 3, 'the batch and the now() writes are committed on return');
    g.now(() => ins.run('d', 4)); // no batch open: its own transaction
    assert.equal(committed(), 4);
  });

  it('a failed commit rejects the waiters and leaves nothing half-written', async () => {
    const ins = db.prepare('insert into t values (?, ?)');
    g.batch(() => ins.run('a', 1));
    const waiting = g.durable();
    // SQLite ended the transaction under the batch (as it does after some I/O errors).
    db.exec('ROLLBACK');
    await assert.rejects(waiting, /ended before its commit/);
    assert.equal(committed(), 0);
    // The next write opens a fresh batch and commits normally.
    g.batch(() => ins.run('b', 2));
    await g.durable();
    assert.equal(committed(), 1);
  });

  it('close() of a handle commits the open batch (src/db/client.ts)', async () => {
    const { openDatabase, groupCommit } = await import('./index.ts');
    const path = join(dir, 'h.db');
    const h = openDatabase(`sqlite:${path}`);
    groupCommit(h.sqlite).batch(() =>
      h.sqlite.prepare("insert into job_runs (job, trigger, started_at, status) values ('sync', 'cli', 1, 'ok')").run(),
    );
    h.close();
    const check = new Database(path, { readonly: true });
    assert.equal((check.prepare('select count(*) as n from job_runs').get() as { n: number }).n, 1);
    check.close();
    await turn(); // the scheduled end-of-turn flush finds nothing left to do
  });
});
