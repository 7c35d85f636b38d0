import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runExport } from '../../src/crm/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { addConversation, addCustomer, harness } from './support.ts';

const CHILD = fileURLToPath(new URL('./export-child.ts', import.meta.url));

describe('export: crash and resume', () => {
  it('a run killed with SIGKILL mid-export resumes where it stopped, without duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcb-export-'));
    const dbUrl = `sqlite:${join(dir, 'db.sqlite')}`;
    const seedDb = openDatabase(dbUrl);
    for (let i = 0; i < 200; i++) {
      const phone = `+336${String(20000000 + i)}`;
      addCustomer(seedDb, { key: `tel:${phone}`, phone, name: `C ${i}` });
      addConversation(seedDb, { customerKey: `tel:${phone}` });
    }
    seedDb.close();
    const h = await harness({ dbUrl, responseDelayMs: 15, rateLimit: 100_000 });
    try {
      const child = spawn(process.execPath, [CHILD, dbUrl, h.twenty.url], { stdio: 'inherit' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const convBatches = () => h.twenty.mutations().filter((r) => r.rootFields[0] === 'createConversations').length;
      while (convBatches() < 5) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      assert.equal(await exited, null, 'killed, not finished');
      const sentBefore = h.twenty.mutations().filter((r) => r.rootFields[0] === 'createConversations').length;
      assert.ok(sentBefore < 20, 'stopped midway');
      const resumed = await runExport(
        h.ctx({ batch_size: 10 }),
        { setup: false, dryRun: false },
        { sleep: h.clock.sleep },
      );
      assert.equal(h.twenty.rows('conversation', { withDeleted: true }).length, 200);
      assert.equal(h.twenty.rows('person', { withDeleted: true }).length, 200);
      assert.ok(resumed.skipped >= 200 + 40, 'people and the already-sent conversations were not re-sent');
      assert.equal(resumed.failed, 0);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
