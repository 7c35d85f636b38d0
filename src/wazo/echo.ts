/**
 * Echo suppression for Matrix → Wazo sends. chatd assigns the message uuid, and the event for our own POST may
 * arrive (over the websocket or a webhook) before the POST answers. So before each POST we record a pending send
 * (room, sender uuid, content hash); an incoming message matching one is held until the POST settles, then
 * dropped if its uuid is the one chatd returned, released otherwise.
 */
import { createHash } from 'node:crypto';

export function contentHash(content: string): string {
  return createHash('sha256').update(content).digest('base64url').slice(0, 22);
}

interface Pending {
  key: string;
  done: Promise<string | undefined>;
  resolve: (uuid: string | undefined) => void;
}

export class EchoGuard {
  readonly #pending = new Map<string, Pending[]>();
  readonly #ours = new Set<string>();
  readonly #oursMax: number;

  constructor(oursMax = 50_000) {
    this.#oursMax = oursMax;
  }

  /**
   * Records a send before the POST. Call `settle(uuid)` with chatd's answer (or undefined when the POST failed);
   * it must be called exactly once.
   */
  begin(room: string, sender: string, content: string): { settle: (uuid: string | undefined) => void } {
    const key = `${room}|${sender}|${contentHash(content)}`;
    let resolve!: (uuid: string | undefined) => void;
    const done = new Promise<string | undefined>((r) => {
      resolve = r;
    });
    const entry: Pending = { key, done, resolve };
    const list = this.#pending.get(key) ?? [];
    list.push(entry);
    this.#pending.set(key, list);
    return {
      settle: (uuid) => {
        if (uuid) this.#remember(uuid);
        const l = this.#pending.get(key);
        if (l) {
          const i = l.indexOf(entry);
          if (i >= 0) l.splice(i, 1);
          if (l.length === 0) this.#pending.delete(key);
        }
        resolve(uuid);
      },
    };
  }

  /** Marks a uuid as ours without a pending entry (e.g. found by the post-timeout check). */
  #remember(uuid: string): void {
    this.#ours.add(uuid);
    if (this.#ours.size > this.#oursMax) {
      const oldest = this.#ours.values().next().value;
      if (oldest !== undefined) this.#ours.delete(oldest);
    }
  }

  markOurs(uuid: string): void {
    this.#remember(uuid);
  }

  /**
   * Decides about an incoming message: true = it is our own echo (drop it), false = a real message. Resolves
   * at once unless a matching send is still in flight, in which case it waits for that POST to settle.
   */
  async isEcho(msg: { uuid: string; room: string; sender: string; content: string }): Promise<boolean> {
    if (this.#ours.has(msg.uuid)) return true;
    const list = this.#pending.get(`${msg.room}|${msg.sender}|${contentHash(msg.content)}`);
    if (!list || list.length === 0) return false;
    const results = await Promise.all(list.map((p) => p.done));
    return results.includes(msg.uuid) || this.#ours.has(msg.uuid);
  }

  /** Synchronous fast path: is there nothing to wait for? */
  needsWait(msg: { room: string; sender: string; content: string }): boolean {
    return (this.#pending.get(`${msg.room}|${msg.sender}|${contentHash(msg.content)}`)?.length ?? 0) > 0;
  }

  isOurs(uuid: string): boolean {
    return this.#ours.has(uuid);
  }
}
