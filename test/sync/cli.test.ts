import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main.ts';
import { latestJobRuns, openDatabase } from '../../src/db/index.ts';
import { addGhost, plainRoom, say, upgradeRoom, whatsappPortal } from '../../src/testing/fake-homeserver/fixtures.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';

const REPORT_KEYS = [
  'id',
  'room_id',
  'channel',
  'customer',
  'started_at',
  'last_message_at',
  'message_count',
  'customer_message_count',
  'agent_message_count',
  'first_response_seconds',
  'resolution_seconds',
  'status',
  'agents',
  'encrypted',
  'sentiment',
  'intent',
  'keywords',
  'language',
];

describe('CLI: sync and report', () => {
  let dir: string;
  let hs: FakeHomeserver;
  let token: string;
  let waRoom: string;
  let other: ReturnType<typeof plainRoom>;
  const run = async (args: string[], env: Record<string, string> = {}) => {
    let out = '';
    let err = '';
    const code = await runCli(['--config', join(dir, 'config.toml'), ...args], {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      env: { AGENT_TOKEN: token, ...env },
      interactive: false,
    });
    return { code, out, err };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcb-sync-cli-'));
    const now = Date.now();
    hs = await new FakeHomeserver({ serverName: 'example.org' }).start();
    const agent = hs.model.addUser('agent');
    token = agent.token;
    const p = whatsappPortal(hs.model, {
      owner: agent.userId,
      receiver: '33612345678',
      customer: { phone: '4915112345678', pushName: 'Maria' },
      ts: now - 3_600_000,
    });
    say(hs.model, p.room, p.ghost, 'where is my order?', now - 3_000_000);
    say(hs.model, p.room, agent.userId, 'on its way', now - 2_940_000);
    waRoom = p.room.id;
    other = plainRoom(hs.model, agent.userId, [addGhost(hs.model, '@z:remote.example')], now - 3_600_000);
    say(hs.model, other, '@z:remote.example', 'hello', now - 1000);
    writeFileSync(
      join(dir, 'config.toml'),
      `[homeserver]\nurl = "${hs.url}"\ndomain = "example.org"\n[database]\nurl = "sqlite:${join(dir, 'bridge.db')}"\n[logging]\nlevel = "silent"\n` +
        `[sync]\nbackfill_days = 0\n[[sync.accounts]]\nuser_id = "${agent.userId}"\naccess_token_env = "AGENT_TOKEN"\n`,
    );
  });
  after(async () => {
    await hs.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sync without accounts → exit 2 naming [[sync.accounts]]', async () => {
    writeFileSync(join(dir, 'empty.toml'), `[database]\nurl = "sqlite:${join(dir, 'x.db')}"\n`);
    let err = '';
    const code = await runCli(['--config', join(dir, 'empty.toml'), 'sync'], {
      err: (t) => {
        err += t;
      },
      out: () => {},
      env: {},
      interactive: false,
    });
    assert.equal(code, 2);
    assert.match(err, /\[\[sync\.accounts\]\]/);
  });

  it('sync prints a one-line summary off a TTY and records the run; --room limits it', async () => {
    const r = await run(['sync', '--room', waRoom]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^sync: 1 rooms synced .*events stored/m);
    assert.equal(r.out, '');
    const all = await run(['sync']);
    assert.equal(all.code, 0, all.err);
    assert.match(all.err, /2 rooms synced/);
    const db = openDatabase(`sqlite:${join(dir, 'bridge.db')}`);
    try {
      const runs = latestJobRuns(db.db, 'sync');
      assert.equal(runs.length, 2);
      assert.equal(runs[0]!.trigger, 'cli');
      assert.equal(runs[0]!.status, 'ok');
    } finally {
      db.close();
    }
    assert.equal((await run(['sync', '--room', 'not-a-room'])).code, 2);
  });

  it('report --format json has exactly the contract keys, filtered by --channel and --since', async () => {
    const r = await run(['report', '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as { generated_at: string; conversations: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(report), ['generated_at', 'conversations']);
    assert.equal(report.conversations.length, 2);
    for (const c of report.conversations) {
      assert.deepEqual(Object.keys(c), REPORT_KEYS);
      assert.deepEqual(Object.keys(c.customer as object), ['key', 'phone', 'mxid', 'name']);
    }
    const wa = JSON.parse((await run(['report', '--format', 'json', '--channel', 'whatsapp'])).out) as typeof report;
    assert.equal(wa.conversations.length, 1);
    const c = wa.conversations[0]!;
    assert.equal(c.channel, 'whatsapp');
    assert.deepEqual(c.customer, {
      key: 'tel:+4915112345678',
      phone: '+4915112345678',
      mxid: '@whatsapp_4915112345678:example.org',
      name: 'Maria',
    });
    assert.equal(c.first_response_seconds, 60);
    assert.equal(c.status, 'WAITING_ON_CUSTOMER');
    assert.equal(c.sentiment, null);
    const recent = JSON.parse((await run(['report', '--format', 'json', '--since', '10m'])).out) as typeof report;
    assert.equal(recent.conversations.length, 1);
    assert.equal((await run(['report', '--channel', 'sms'])).code, 2);
    const text = await run(['report', '--format', 'text']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /whatsapp/);
  });

  it('sync prints a notice for an upgraded room no account is in, and still exits 0', async () => {
    const upgrader = addGhost(hs.model, '@owner:remote.example');
    const b = upgradeRoom(hs.model, other, upgrader, { ts: Date.now() }).room;
    const r = await run(['sync']);
    assert.equal(r.code, 0, r.err);
    const lines = r.err.trim().split('\n');
    assert.match(lines[0]!, /^sync: \d+ rooms synced/);
    assert.equal(
      lines[1],
      `sync: upgraded room not joined: ${other.id} was replaced by ${b.id} (no sync account is in it; join it, or set [sync] auto_join = true)`,
    );
    const db = openDatabase(`sqlite:${join(dir, 'bridge.db')}`);
    try {
      const last = latestJobRuns(db.db, 'sync', 1)[0]!;
      assert.deepEqual([last.status, last.counts.upgrades_not_joined], ['ok', 1]);
    } finally {
      db.close();
    }
  });
});
