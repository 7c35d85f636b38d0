import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../log.ts';
import { startWalCheckpointer } from './checkpointer.ts';
import { openDatabase } from './client.ts';

describe('WAL checkpointer', () => {
  it('checkpoints from its worker while the main connection writes, and hands back on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-ckpt-'));
    const h = openDatabase(`sqlite:${join(dir, 'c.db')}`);
    try {
      const cp = startWalCheckpointer(h, { log: silentLogger, intervalMs: 20 })!;
      assert.equal(h.sqlite.pragma('wal_autocheckpoint', { simple: true }), 0, 'automatic checkpoints are off');
      h.sqlite.exec('create table big (k integer primary key, v text)');
      const ins = h.sqlite.prepare('insert into big (v) values (?)');
      // ~2,500 pages of WAL, more than SQLite's own 1,000-page threshold.
      for (let round = 0; round < 10; round++) {
        h.sqlite.transaction(() => {
          for (let i = 0; i < 1000; i++) ins.run('x'.repeat(1000));
        })();
        await new Promise((r) => setTimeout(r, 25));
      }
      const deadline = Date.now() + 5000;
      while (cp.runs < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(cp.runs >= 3, `the worker ran checkpoints (${cp.runs})`);
      // The pages were copied into the database file by the worker: the main connection never checkpointed.
      assert.ok(statSync(join(dir, 'c.db')).size > 5_000_000, 'pages reached the main file');
      await cp.stop();
      assert.equal(h.sqlite.pragma('wal_autocheckpoint', { simple: true }), 1000, 'automatic checkpoints are back');
    } finally {
      h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not used for in-memory databases', () => {
    const h = openDatabase('sqlite::memory:');
    assert.equal(startWalCheckpointer(h, { log: silentLogger }), undefined);
    h.close();
  });
});
