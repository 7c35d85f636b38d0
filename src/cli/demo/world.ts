/**
 * The simulated world of the demo: a fake homeserver, a fake Wazo and a fake Twenty on 127.0.0.1, the
 * Matrix accounts of the support team, the Wazo accounts of agents and customers, and the demo's config
 * (written to data/demo/config.toml, secrets passed through the environment as in production).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FakeHomeserver } from '../../testing/fake-homeserver/index.ts';
import { FakeTwenty } from '../../testing/fake-twenty/index.ts';
import { FakeWazo, type FakeUser } from '../../testing/fake-wazo/index.ts';
import type { Scenario } from './scenario.ts';

export const DOMAIN = 'localhost';
export const TWENTY_KEY = 'demo-twenty-api-key';

/** A clock the demo moves by hand: scenario time while playing, real time for the pipeline. */
export class DemoClock {
  #now: number;
  constructor(start: number) {
    this.#now = start;
  }
  readonly now = (): number => this.#now;
  set(ms: number): void {
    this.#now = ms;
  }
}

export interface MatrixAccount {
  userId: string;
  token: string;
}

export interface World {
  dir: string;
  clock: DemoClock;
  hs: FakeHomeserver;
  wazo: FakeWazo;
  twenty: FakeTwenty;
  support: MatrixAccount;
  agents: Map<string, MatrixAccount>;
  wazoAgents: Map<string, FakeUser>;
  wazoCustomers: Map<string, FakeUser>;
  configPath: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the fakes and writes the demo config into `dir` (emptied first). */
export async function createWorld(scenario: Scenario, dir: string, clock: DemoClock): Promise<World> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hs = await new FakeHomeserver({
    serverName: DOMAIN,
    clock: clock.now,
    pusher: { baseDelayMs: 20, maxDelayMs: 200 },
  }).start();
  const wazo = await new FakeWazo({ now: clock.now, webhookRetryDelayMs: () => 50 }).start();
  const twenty = new FakeTwenty({ apiKeys: [TWENTY_KEY] });
  await twenty.start();

  const support = hs.model.addUser('support', { displayname: `${scenario.company} Support` });
  const agents = new Map(scenario.agents.map((a) => [a.id, hs.model.addUser(a.id, { displayname: a.name })]));
  const password = () => randomBytes(12).toString('hex');
  const servicePassword = password();
  const relayPassword = password();
  wazo.addUser({ username: 'mcb-service', password: servicePassword, purpose: 'external_api' });
  wazo.addUser({ username: 'mcb-relay', password: relayPassword, firstname: scenario.company, lastname: 'Support' });
  const wazoAgents = new Map<string, FakeUser>();
  for (const a of scenario.agents) {
    if (!a.wazo_login) continue;
    const [firstname, ...last] = a.name.split(' ');
    wazoAgents.set(
      a.id,
      wazo.addUser({
        username: a.wazo_login,
        password: `${a.wazo_login}-pw`,
        firstname,
        lastname: last.join(' '),
        email: a.email,
      }),
    );
  }
  const wazoCustomers = new Map<string, FakeUser>();
  for (const c of scenario.customers) {
    if (c.channel === 'whatsapp') continue;
    const [firstname, ...last] = c.name.split(' ');
    wazoCustomers.set(
      c.id,
      wazo.addUser({
        username: c.id,
        password: `${c.id}-pw`,
        firstname,
        lastname: last.join(' '),
        email: c.email ?? null,
        mobile_phone_number: c.phone ?? null,
      }),
    );
  }

  const staffPattern = `/^@(${['support', ...scenario.agents.map((a) => a.id)].join('|')}):localhost$/`;
  const configPath = join(dir, 'config.toml');
  writeFileSync(
    configPath,
    `# Written by \`matrix-crm-bridge demo\`: the bridge and the pipeline against the simulated services.
[homeserver]
url = "${hs.url}"
domain = "${DOMAIN}"

[appservice]
url = "http://127.0.0.1:0"
registration = "${join(dir, 'registration.yaml')}"

[http]
host = "127.0.0.1"
port = 0

[database]
url = "sqlite:${join(dir, 'bridge.db')}"

[bridge]
relay = true
permissions = { "${DOMAIN}" = "user" }

[wazo]
url = "${wazo.url}"
websocket_url = "${wazo.websocketUrl}"
events = "websocket"

[whatsapp]
own_numbers = ["${scenario.whatsapp_number}"]

[[sync.accounts]]
user_id = "${support.userId}"
access_token_env = "MCB_DEMO_SUPPORT_TOKEN"

[[sync.accounts]]
appservice = true

[sync]
backfill_days = 7
staff = ["${staffPattern}"]

[twenty]
url = "${twenty.url}"

[jobs]
sync_enabled = false
classify_enabled = false
export_enabled = false

[logging]
level = "warn"
format = "json"

[report]
timezone = "${scenario.timezone}"
`,
  );
  const env: Record<string, string> = {
    MCB_DEMO_SUPPORT_TOKEN: support.token,
    MCB_TWENTY_API_KEY: TWENTY_KEY,
    MCB_WAZO_SERVICE_USERNAME: 'mcb-service',
    MCB_WAZO_SERVICE_PASSWORD: servicePassword,
    MCB_WAZO_RELAY_USERNAME: 'mcb-relay',
    MCB_WAZO_RELAY_PASSWORD: relayPassword,
    MCB_BRIDGE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  return {
    dir: resolve(dir),
    clock,
    hs,
    wazo,
    twenty,
    support,
    agents,
    wazoAgents,
    wazoCustomers,
    configPath,
    env,
    async stop() {
      await hs.stop();
      await wazo.close();
      await twenty.stop();
    },
  };
}
