import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotConfiguredError } from '../../src/errors.ts';
import { buildRegistration, writeRegistration } from '../../src/matrix/index.ts';
import { runSync } from '../../src/sync/index.ts';
import { addGhost, join, plainRoom, say, wazoPortal } from '../../src/testing/fake-homeserver/fixtures.ts';
import { type Harness, harness, MIN, noSleep, T0 } from './harness.ts';

describe('sync: accounts', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await harness();
    dir = mkdtempSync(joinPath(tmpdir(), 'mcb-sync-acc-'));
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads as the bridge bot with the as_token of the registration file, and as a user from a token file; shared rooms are read once', async () => {
    const reg = buildRegistration({
      id: 'matrix-crm-bridge',
      url: 'http://127.0.0.1:1',
      botLocalpart: 'crmbridge',
      ghostPrefix: 'wazo_',
      domain: 'example.org',
    });
    const regPath = joinPath(dir, 'registration.yaml');
    writeRegistration(regPath, reg);
    h.hs.registerAppservice(reg);
    const bot = '@crmbridge:example.org';
    const portal = wazoPortal(h.hs.model, {
      bot,
      ghost: '@wazo_u-1:example.org',
      ghostName: 'U1',
      staff: h.agent.userId,
      wazoRoomUuid: 'r-1',
      ts: T0,
    });
    say(h.hs.model, portal, '@wazo_u-1:example.org', 'hello from Wazo', T0 + MIN);
    const second = h.hs.model.addUser('second');
    const own = plainRoom(h.hs.model, second.userId, [], T0);
    say(h.hs.model, own, second.userId, 'note to self', T0 + MIN);
    const tokenFile = joinPath(dir, 'second.token');
    writeFileSync(tokenFile, `${second.token}\n`);
    const shared = plainRoom(
      h.hs.model,
      h.agent.userId,
      [second.userId, addGhost(h.hs.model, '@c:remote.example')],
      T0,
    );
    join(h.hs.model, shared, bot, T0 + 5);
    say(h.hs.model, shared, '@c:remote.example', 'hi', T0 + MIN);
    const config = h.config({
      appservice: { registration: regPath },
      sync: {
        accounts: [{ appservice: true }, { user_id: second.userId, access_token_file: tokenFile }],
        rooms: { include: [portal.id, shared.id, own.id] },
      },
    });
    const c = await runSync(h.ctx(config), { env: {}, sleep: noSleep });
    assert.equal(c.rooms_synced, 3);
    const rows = h.db.sqlite
      .prepare('select room_id, account from history_rooms where room_id in (?, ?) order by room_id')
      .all(portal.id, shared.id) as {
      room_id: string;
      account: string;
    }[];
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.room_id, r.account])), {
      [portal.id]: bot,
      [shared.id]: bot,
    });
    const ownRow = h.db.sqlite.prepare('select account from history_rooms where room_id = ?').get(own.id) as {
      account: string;
    };
    assert.equal(ownRow.account, second.userId);
    const reads = h.hs.requestsTo(
      new RegExp(`/rooms/${encodeURIComponent(shared.id).replace(/[!$.]/g, '\\$&')}/messages$`),
    );
    assert.ok(
      reads.length > 0 && reads.every((r) => r.actingAs === bot),
      'the shared room is read by one account only',
    );
    // Spec (Application Services, identity assertion): /sync with an as_token MUST name a virtual user.
    const syncs = h.hs.requestsTo(/\/sync$/).filter((r) => r.actingAs === bot);
    assert.ok(syncs.length > 0 && syncs.every((r) => r.query.user_id === bot), 'as_token /sync carries user_id');
  });

  it('no accounts → NotConfiguredError naming [[sync.accounts]]; a missing token variable is a config error', async () => {
    await assert.rejects(
      runSync(h.ctx(h.config({ sync: { accounts: [] } })), { env: {} }),
      (e: unknown) => e instanceof NotConfiguredError && /\[\[sync\.accounts\]\]/.test(e.message),
    );
    await assert.rejects(runSync(h.ctx(h.config()), { env: {} }), /AGENT_TOKEN is not set/);
  });
});
