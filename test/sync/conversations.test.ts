import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { conversationReport } from '../../src/report/conversations.ts';
import { forgetCustomerHistory, runSync } from '../../src/sync/index.ts';
import { addGhost, plainRoom, say } from '../../src/testing/fake-homeserver/fixtures.ts';
import { DAY, type Harness, HOUR, harness, MIN, noSleep } from './harness.ts';

type Row = Record<string, unknown>;

describe('sync: conversations table, revisions, report rows and forgetting', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it('bumps the revision only when a segment changes, and splits on the conversation gap', async () => {
    const cust = addGhost(h.hs.model, '@rev:remote.example', { displayname: 'Rev' });
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - 2 * DAY);
    const t = h.clock.now - HOUR;
    say(h.hs.model, room, cust, 'hello, my invoice is wrong', t);
    say(h.hs.model, room, h.agent.userId, 'let me check', t + 5 * MIN);
    const config = h.config({ sync: { rooms: { include: [room.id] } } });
    const sync = () => runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    const convs = () =>
      h.db.sqlite.prepare('select * from conversations where room_id = ? order by started_at').all(room.id) as Row[];
    await sync();
    assert.equal(convs().length, 1);
    assert.equal(convs()[0]!.revision, 1);
    assert.equal(convs()[0]!.status, 'WAITING_ON_CUSTOMER');
    await sync();
    assert.equal(convs()[0]!.revision, 1, 'nothing changed, no bump');

    say(h.hs.model, room, cust, 'thanks!', t + 10 * MIN);
    await sync();
    assert.equal(convs()[0]!.revision, 2);
    assert.equal(convs()[0]!.status, 'OPEN');
    say(h.hs.model, room, h.agent.userId, 'you are welcome', t + 12 * MIN);
    h.clock.now += 2 * DAY;
    await sync();
    const [c] = convs();
    assert.equal(c!.status, 'RESOLVED');
    assert.equal(c!.revision, 3);
    assert.equal(c!.resolution_seconds, 12 * 60);
    const tagged = h.db.sqlite
      .prepare('select count(*) n from history_events where conversation_id = ?')
      .get(c!.id) as Row;
    assert.equal(tagged.n, 4);

    say(h.hs.model, room, cust, 'new problem', h.clock.now - MIN);
    await sync();
    assert.equal(convs().length, 2);
    assert.equal(convs()[1]!.status, 'OPEN');
    h.clock.now += 3 * DAY;
    await sync();
    assert.equal(convs()[1]!.status, 'OPEN', 'an unanswered customer stays OPEN');
  });

  it('a room without anyone on the customer side (a DM with our bot) holds no conversation', async () => {
    const bot = addGhost(h.hs.model, '@crmbridge:example.org');
    const room = plainRoom(h.hs.model, h.agent.userId, [bot], h.clock.now - DAY);
    say(h.hs.model, room, h.agent.userId, 'login', h.clock.now - HOUR);
    say(h.hs.model, room, bot, 'Logged in.', h.clock.now - HOUR + 1000);
    await runSync(h.ctx(h.config({ sync: { rooms: { include: [room.id] } } })), { env: h.env, sleep: noSleep });
    const n = h.db.sqlite.prepare('select count(*) n from conversations where room_id = ?').get(room.id) as Row;
    assert.equal(n.n, 0);
    assert.equal(
      (h.db.sqlite.prepare('select count(*) n from history_events where room_id = ?').get(room.id) as Row).n,
      2,
    );
  });

  it('report rows carry the classification once classify wrote one', async () => {
    const cust = addGhost(h.hs.model, '@cls:remote.example');
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - DAY);
    say(h.hs.model, room, cust, 'I want a refund', h.clock.now - HOUR);
    await runSync(h.ctx(h.config({ sync: { rooms: { include: [room.id] } } })), { env: h.env, sleep: noSleep });
    const id = (h.db.sqlite.prepare('select id from conversations where room_id = ?').get(room.id) as Row).id as string;
    h.db.sqlite
      .prepare(
        `insert into conversation_classifications (conversation_id, model_version, conversation_revision, sentiment_label, sentiment_score,
        intent_label, intent_confidence, intents, keywords, language, classified_at) values (?, 'v1', 1, 'negative', -0.6, 'refund', 0.8, '["refund"]', '["refund"]', 'en', 0)`,
      )
      .run(id);
    const report = conversationReport(h.db.sqlite, { channel: 'matrix', since: h.clock.now - 2 * HOUR }, h.clock.now);
    const c = report.conversations.find((x) => x.id === id)!;
    assert.deepEqual(
      [c.sentiment, c.intent, c.keywords, c.language],
      [{ label: 'negative', score: -0.6 }, { label: 'refund', confidence: 0.8 }, ['refund'], 'en'],
    );
  });

  it('forgetCustomerHistory erases the customer, their rooms history and conversations, but keeps the cursor', async () => {
    const cust = addGhost(h.hs.model, '@gone:remote.example', { displayname: 'Gone' });
    const room = plainRoom(h.hs.model, h.agent.userId, [cust], h.clock.now - DAY);
    say(h.hs.model, room, cust, 'delete me', h.clock.now - HOUR);
    const config = h.config({ sync: { rooms: { include: [room.id] } } });
    await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    const out = forgetCustomerHistory(h.db.sqlite, `mxid:${cust}`);
    assert.equal(out.customers, 1);
    assert.equal(out.rooms, 1);
    assert.equal(out.conversationIds.length, 1);
    const left = h.db.sqlite
      .prepare(
        `select (select count(*) from history_events where room_id = @room) e, (select count(*) from customers where key = @key) c,
        (select count(*) from history_memberships where room_id = @room) m, (select count(*) from sync_cursors where room_id = @room) k`,
      )
      .get({ room: room.id, key: `mxid:${cust}` }) as Row;
    assert.deepEqual(left, { e: 0, c: 0, m: 0, k: 1 });
    const again = await runSync(h.ctx(config), { env: h.env, sleep: noSleep });
    assert.equal(again.messages, 0, 'the erased history is not read again');
  });
});
