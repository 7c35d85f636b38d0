/** A real (non-appservice) Matrix user on the fake homeserver, driven over HTTP like a client would. */
import type { FakeHomeserver } from '../../src/testing/fake-homeserver/index.ts';

export class MatrixUser {
  readonly hs: FakeHomeserver;
  readonly userId: string;
  readonly token: string;
  #txn = 0;

  constructor(hs: FakeHomeserver, localpart: string, displayname?: string) {
    this.hs = hs;
    const u = hs.model.addUser(localpart, { displayname });
    this.userId = u.userId;
    this.token = u.token;
  }

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.hs.url}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json()) as T;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  }

  async createDm(with_: string): Promise<string> {
    const r = await this.call<{ room_id: string }>('POST', '/createRoom', {
      preset: 'trusted_private_chat',
      invite: [with_],
      is_direct: true,
    });
    return r.room_id;
  }

  async say(roomId: string, body: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await this.call<{ event_id: string }>(
      'PUT',
      `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/u${++this.#txn}`,
      {
        msgtype: 'm.text',
        body,
        ...extra,
      },
    );
    return r.event_id;
  }

  async join(roomId: string): Promise<void> {
    await this.call('POST', `/rooms/${encodeURIComponent(roomId)}/join`, {});
  }
}
