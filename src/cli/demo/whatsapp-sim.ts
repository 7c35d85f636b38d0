/**
 * A stand-in for mautrix-whatsapp in the demo: an appservice registered on the simulated homeserver that
 * creates DM portals exactly as mautrix-whatsapp (bridgev2) does — `m.bridge` and `uk.half-shot.bridge`
 * state with `protocol.id = "whatsapp"`, the chat JID as `channel.id`, the login's number as
 * `fi.mau.receiver`, `com.beeper.room_type = "dm"`, ghosts `@whatsapp_<digits>` named "<name> (WA)" — and
 * posts the customers' messages as those ghosts, through the Client-Server API.
 */
import { randomBytes } from 'node:crypto';

export interface WhatsAppSimOptions {
  homeserverUrl: string;
  serverName: string;
  /** The company's WhatsApp number (E.164): the login owner's number. */
  ownNumber: string;
  /** The Matrix user who logged the company's WhatsApp into the bridge. */
  owner: { userId: string; token: string };
}

export interface Portal {
  roomId: string;
  ghost: string;
}

export class WhatsAppSim {
  readonly registration: {
    id: string;
    url: null;
    as_token: string;
    hs_token: string;
    sender_localpart: string;
    namespaces: { users: { regex: string; exclusive: boolean }[] };
  };
  readonly #o: WhatsAppSimOptions;
  readonly #bot: string;
  #txn = 0;

  constructor(opts: WhatsAppSimOptions) {
    this.#o = opts;
    const domain = opts.serverName.replace(/\./g, '\\.');
    this.registration = {
      id: 'whatsapp',
      url: null,
      as_token: randomBytes(32).toString('hex'),
      hs_token: randomBytes(32).toString('hex'),
      sender_localpart: 'whatsappbot',
      namespaces: {
        users: [
          { regex: `^@whatsappbot:${domain}$`, exclusive: true },
          { regex: `^@whatsapp_.*:${domain}$`, exclusive: true },
        ],
      },
    };
    this.#bot = `@whatsappbot:${opts.serverName}`;
  }

  async #call(
    method: string,
    path: string,
    body: unknown,
    opts: { as?: string; token?: string; ts?: number } = {},
  ): Promise<Record<string, unknown>> {
    const url = new URL(`${this.#o.homeserverUrl}${path}`);
    if (opts.as) url.searchParams.set('user_id', opts.as);
    if (opts.ts !== undefined) url.searchParams.set('ts', String(opts.ts));
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${opts.token ?? this.registration.as_token}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok && json.errcode !== 'M_USER_IN_USE')
      throw new Error(`simulated WhatsApp bridge: ${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  #ghost(digits: string): string {
    return `@whatsapp_${digits}:${this.#o.serverName}`;
  }

  async #ensureGhost(digits: string, displayname: string) {
    await this.#call('POST', '/_matrix/client/v3/register', {
      type: 'm.login.application_service',
      username: `whatsapp_${digits}`,
      inhibit_login: true,
    });
    const ghost = this.#ghost(digits);
    await this.#call(
      'PUT',
      `/_matrix/client/v3/profile/${encodeURIComponent(ghost)}/displayname`,
      { displayname },
      { as: ghost },
    );
  }

  /** Creates the DM portal of one customer, with the owner joined. */
  async openPortal(customer: { name: string; phone: string; showNumberOnly?: boolean }): Promise<Portal> {
    const digits = customer.phone.slice(1);
    const own = this.#o.ownNumber.slice(1);
    const ghost = this.#ghost(digits);
    await this.#ensureGhost(digits, customer.showNumberOnly ? `${customer.phone} (WA)` : `${customer.name} (WA)`);
    const bridgeContent = {
      bridgebot: this.#bot,
      creator: this.#bot,
      protocol: { id: 'whatsapp', displayname: 'WhatsApp', external_url: 'https://whatsapp.com' },
      channel: { id: `${digits}@s.whatsapp.net`, displayname: customer.name, 'fi.mau.receiver': own },
      'com.beeper.room_type': 'dm',
      'com.beeper.room_type.v2': 'dm',
    };
    const stateKey = `${this.#o.serverName}/whatsapp`;
    const created = await this.#call('POST', '/_matrix/client/v3/createRoom', {
      preset: 'private_chat',
      visibility: 'private',
      name: customer.name,
      topic: 'WhatsApp private chat',
      is_direct: true,
      invite: [this.#o.owner.userId, ghost],
      power_level_content_override: { users: { [this.#bot]: 9001, [this.#o.owner.userId]: 50 } },
      initial_state: [
        { type: 'm.bridge', state_key: stateKey, content: bridgeContent },
        { type: 'uk.half-shot.bridge', state_key: stateKey, content: bridgeContent },
      ],
    });
    const roomId = created.room_id as string;
    await this.#call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, {}, { as: ghost });
    await this.#call(
      'POST',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`,
      {},
      { token: this.#o.owner.token },
    );
    return { roomId, ghost };
  }

  /** The customer's message, bridged with the WhatsApp timestamp (`ts`), as mautrix does. */
  async customerSays(portal: Portal, text: string, at: number): Promise<string> {
    const res = await this.#call(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(portal.roomId)}/send/m.room.message/wa.${++this.#txn}`,
      { msgtype: 'm.text', body: text },
      { as: portal.ghost, ts: at },
    );
    return res.event_id as string;
  }
}
