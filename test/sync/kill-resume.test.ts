import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/db/index.ts';
import { runSync } from '../../src/sync/index.ts';
import { addGhost, generateConversation, plainRoom } from '../../src/testing/fake-homeserver/fixtures.ts';
import { type Harness, harness, MIN, noSleep, T0 } from './harness.ts';

const CHILD = fileURLToPath(new URL('./child-sync.ts', import.meta.url));

describe('sync: kill -9 in the middle of a room', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcb-sync-kill-'));
    h = await harness(`sqlite:${join(dir, 'bridge.db')}`);
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes without a gap and without a duplicate', async () => {
    const cust = addGhost(h.hs.model, '@kim:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], T0);
    const total = 12_000;
    generateConversation(h.hs.model, room, {
      customer: cust,
      staff: h.agent.userId,
      count: total,
      startTs: T0,
      stepMs: MIN,
    });
    const dbPath = join(dir, 'bridge.db');
    const child = spawn(process.execPath, [CHILD, h.hs.url, dbPath, h.agent.userId], {
      env: { ...process.env, AGENT_TOKEN: h.agent.token },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const peek = new Database(dbPath, { readonly: true, fileMustExist: false });
    let atKill = 0;
    // Poll the child's progress through the WAL and kill it once it is well inside the room.
    for (;;) {
      await new Promise((r) => setImmediate(r));
      try {
        atKill = (peek.prepare('select count(*) n from history_events').get() as { n: number }).n;
      } catch {
        // The child has not created the tables yet: keep polling.
        atKill = 0;
      }
      if (atKill >= 2_000 || child.exitCode !== null) break;
    }
    child.kill('SIGKILL');
    await exited;
    peek.close();
    assert.ok(atKill > 0 && atKill < total, `killed mid-room (had ${atKill} of ${total})`);

    const config = h.config({ database: { url: `sqlite:${dbPath}` }, sync: { rooms: { include: [room.id] } } });
    const db = openDatabase(`sqlite:${dbPath}`);
    try {
      const counts = await runSync({ ...h.ctx(config), db }, { env: h.env, sleep: noSleep });
      assert.equal(counts.duplicates, 0, 'no page was stored twice');
      const stored = db.sqlite
        .prepare('select event_id from history_events where room_id = ? order by ts')
        .all(room.id) as { event_id: string }[];
      const expected = room.events.filter((e) => e.type === 'm.room.message').map((e) => e.event_id);
      assert.equal(stored.length, total);
      assert.deepEqual(
        stored.map((r) => r.event_id),
        expected,
        'every event, once, in order',
      );
      const cursor = db.sqlite
        .prepare('select backfill_done, backward_token from sync_cursors where room_id = ?')
        .get(room.id);
      assert.deepEqual(cursor, { backfill_done: 1, backward_token: null });
    } finally {
      db.close();
    }
  });
});
