/**
 * Child process of the sync benchmark: a fake homeserver holding 1,000 rooms × 200 events and one room of
 * 200,000 events (deterministic), so the measured process pays only for the client side. Prints
 * `{"url","token","userId","events"}` on one line when ready; exits when stdin closes.
 */
import { addGhost, generateConversation, plainRoom } from '../../src/testing/fake-homeserver/fixtures.ts';
import { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';

const rooms = Number(process.argv[2] ?? 1000);
const perRoom = Number(process.argv[3] ?? 200);
const big = Number(process.argv[4] ?? 200_000);
const T0 = Date.UTC(2026, 9, 1);
const hs = await new FakeHomeserver({ serverName: 'bench.example', clock: () => T0 + 400 * 86_400_000 }).start();
const agent = hs.model.addUser('agent');
let events = 0;
for (let i = 0; i < rooms; i++) {
  const cust = addGhost(hs.model, `@cust${i}:remote.example`, { displayname: `Customer ${i}` });
  const room = plainRoom(hs.model, agent.userId, [cust], T0);
  generateConversation(hs.model, room, {
    customer: cust,
    staff: agent.userId,
    count: perRoom,
    startTs: T0 + 1000,
    stepMs: 7 * 60_000,
    seed: i + 1,
  });
  events += perRoom;
}
const whale = addGhost(hs.model, '@whale:remote.example');
const bigRoom = plainRoom(hs.model, agent.userId, [whale], T0);
generateConversation(hs.model, bigRoom, {
  customer: whale,
  staff: agent.userId,
  count: big,
  startTs: T0 + 1000,
  stepMs: 60_000,
  seed: 7,
});
events += big;
// Requests are recorded by the fake for assertions; the benchmark does not need them (and they would grow).
hs.requests.push = () => 0;
process.stdout.write(`${JSON.stringify({ url: hs.url, token: agent.token, userId: agent.userId, events })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void hs.stop().then(() => process.exit(0));
});
