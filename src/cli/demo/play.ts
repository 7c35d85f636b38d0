/**
 * Plays the scenario through the real bridge: WhatsApp conversations as mautrix-whatsapp would bridge them,
 * Wazo conversations through wazo-chatd ⇄ bridge ⇄ homeserver, agents answering from Matrix. Every step
 * waits until it has crossed (no sleeping on a timer), with the clock set to the scenario time.
 */
import type { Scenario, ScenarioCustomer } from './scenario.ts';
import { localTime, scenarioDay } from './scenario.ts';
import { type Portal, WhatsAppSim } from './whatsapp-sim.ts';
import { DOMAIN, type MatrixAccount, type World } from './world.ts';

export interface PlayStats {
  whatsappMessages: number;
  wazoToMatrix: number;
  matrixToWazo: number;
  portals: number;
}

/** Polls `cond` (real time) until true; the bridge works asynchronously. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Step {
  at: number;
  conv: number;
  from: string;
  text: string;
}

export async function play(world: World, scenario: Scenario, realNow: number): Promise<PlayStats> {
  const { hs, wazo, clock } = world;
  const day = scenarioDay(realNow, scenario.timezone);
  const customers = new Map(scenario.customers.map((c) => [c.id, c]));
  const stats: PlayStats = { whatsappMessages: 0, wazoToMatrix: 0, matrixToWazo: 0, portals: 0 };
  let txn = 0;

  const cs = async (who: MatrixAccount, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${hs.url}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`demo: ${method} ${path} as ${who.userId}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const wazoApi = async (
    path: string,
    method: string,
    token: string | undefined,
    body?: unknown,
    extra: Record<string, string> = {},
  ) => {
    const res = await fetch(`${wazo.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}), ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`demo: Wazo ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const wazoToken = async (username: string, password: string) => {
    const r = await wazoApi(
      '/api/auth/0.1/token',
      'POST',
      undefined,
      { expiration: 36_000 },
      {
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      },
    );
    return (r.data as { token: string }).token;
  };
  const messagesOf = (roomId: string) =>
    hs.model.rooms.get(roomId)?.events.filter((e) => e.type === 'm.room.message') ?? [];
  const botId = `@crmbridge:${DOMAIN}`;
  const findMessageRoom = (sender: string, body: string): string | undefined => {
    for (const room of hs.model.rooms.values()) {
      if (
        room.events.some(
          (e) => e.type === 'm.room.message' && e.sender === sender && String(e.content.body).includes(body),
        )
      )
        return room.id;
    }
    return undefined;
  };

  // 1. Agents with a Wazo account link it through the bridge bot (the real login flow).
  const day0 = localTime(day, '07:30', scenario.timezone);
  clock.set(day0);
  for (const agent of scenario.agents) {
    if (!agent.wazo_login) continue;
    const me = world.agents.get(agent.id)!;
    const mgmt = (
      await cs(me, 'POST', '/createRoom', { invite: [botId], is_direct: true, preset: 'trusted_private_chat' })
    ).room_id as string;
    await until(
      () => hs.model.membership(hs.model.rooms.get(mgmt)!, botId) === 'join',
      'the bot joining the management room',
    );
    await cs(me, 'PUT', `/rooms/${encodeURIComponent(mgmt)}/send/m.room.message/demo${++txn}`, {
      msgtype: 'm.text',
      body: `login ${agent.wazo_login}`,
    });
    await until(
      () => messagesOf(mgmt).some((e) => e.sender === botId && /password/i.test(String(e.content.body))),
      'the password prompt',
    );
    await cs(me, 'PUT', `/rooms/${encodeURIComponent(mgmt)}/send/m.room.message/demo${++txn}`, {
      msgtype: 'm.text',
      body: `${agent.wazo_login}-pw`,
    });
    await until(
      () => messagesOf(mgmt).some((e) => e.sender === botId && /Logged in as/.test(String(e.content.body))),
      `${agent.id} logged in`,
    );
  }

  // 2. The steps of every conversation, in time order.
  const steps: Step[] = scenario.conversations
    .flatMap((c, conv) =>
      c.messages.map((m) => ({ at: localTime(day, m.at, scenario.timezone), conv, from: m.from, text: m.text })),
    )
    .sort((a, b) => a.at - b.at || a.conv - b.conv);

  const wa = new WhatsAppSim({
    homeserverUrl: hs.url,
    serverName: DOMAIN,
    ownNumber: scenario.whatsapp_number,
    owner: world.support,
  });
  hs.registerAppservice(wa.registration);
  const waPortals = new Map<number, Portal>();
  const wazoRooms = new Map<number, { uuid: string; token: string; matrixRoom?: string }>();
  const linkedAgent = scenario.agents.find((a) => a.wazo_login);
  const hubAgent = linkedAgent ? world.wazoAgents.get(linkedAgent.id) : undefined;

  const ensureAgentIn = async (roomId: string, agentId: string) => {
    const me = world.agents.get(agentId)!;
    const room = hs.model.rooms.get(roomId)!;
    const membership = hs.model.membership(room, me.userId);
    if (membership === 'join') return;
    if (membership !== 'invite') {
      // The support account (WhatsApp) or the linked agent (Wazo portal) brings colleagues in.
      const inviter = room.state.has(`m.room.member\u0000${world.support.userId}`)
        ? world.support
        : world.agents.get(linkedAgent!.id)!;
      await ensureJoined(roomId, inviter);
      await cs(inviter, 'POST', `/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: me.userId });
    }
    await cs(me, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  };
  const ensureJoined = async (roomId: string, who: MatrixAccount) => {
    if (hs.model.membership(hs.model.rooms.get(roomId)!, who.userId) !== 'join')
      await cs(who, 'POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  };

  for (const step of steps) {
    clock.set(step.at);
    const conv = scenario.conversations[step.conv];
    const customer = customers.get(conv.customer) as ScenarioCustomer;
    if (conv.channel === 'whatsapp') {
      let portal = waPortals.get(step.conv);
      if (!portal) {
        portal = await wa.openPortal({
          name: customer.name,
          phone: customer.phone!,
          showNumberOnly: customer.show_number_only,
        });
        waPortals.set(step.conv, portal);
        stats.portals++;
      }
      if (step.from === 'customer') {
        await wa.customerSays(portal, step.text, step.at);
        stats.whatsappMessages++;
      } else {
        await ensureAgentIn(portal.roomId, step.from);
        await cs(
          world.agents.get(step.from)!,
          'PUT',
          `/rooms/${encodeURIComponent(portal.roomId)}/send/m.room.message/demo${++txn}`,
          { msgtype: 'm.text', body: step.text },
        );
        stats.whatsappMessages++;
      }
      continue;
    }
    // Wazo: the customer's chat with the linked agent's Wazo account; the bridge makes it a portal.
    let room = wazoRooms.get(step.conv);
    if (!room) {
      const wazoUser = world.wazoCustomers.get(customer.id)!;
      const token = await wazoToken(wazoUser.username, wazoUser.password);
      const created = await wazoApi('/api/chatd/1.0/users/me/rooms', 'POST', token, {
        users: [{ uuid: hubAgent!.uuid }],
      });
      room = { uuid: created.uuid as string, token };
      wazoRooms.set(step.conv, room);
    }
    if (step.from === 'customer') {
      const ghost = `@wazo_${world.wazoCustomers.get(customer.id)!.uuid}:${DOMAIN}`;
      await wazoApi(`/api/chatd/1.0/users/me/rooms/${room.uuid}/messages`, 'POST', room.token, { content: step.text });
      let found: string | undefined;
      await until(() => {
        found = findMessageRoom(ghost, step.text);
        return found !== undefined;
      }, 'the Wazo message reaching Matrix');
      if (!room.matrixRoom) {
        room.matrixRoom = found;
        stats.portals++;
      }
      stats.wazoToMatrix++;
    } else {
      const matrixRoom = room.matrixRoom;
      if (!matrixRoom)
        throw new Error(`demo: conversation ${step.conv} starts with an agent; Wazo portals start with the customer`);
      await ensureAgentIn(matrixRoom, step.from);
      const sentBefore = wazo.state.messages.length;
      await cs(
        world.agents.get(step.from)!,
        'PUT',
        `/rooms/${encodeURIComponent(matrixRoom)}/send/m.room.message/demo${++txn}`,
        { msgtype: 'm.text', body: step.text },
      );
      await until(
        () =>
          wazo.state.messages.length > sentBefore &&
          wazo.state.messages.some((m) => m.content.includes(step.text.slice(0, 40))),
        'the agent’s answer reaching Wazo',
      );
      stats.matrixToWazo++;
    }
  }
  await hs.pusher.idle();
  return stats;
}
