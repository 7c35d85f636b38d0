/**
 * Echo suppression for Matrix → Wazo sends. chatd assigns the message uuid, and the event for our own POST may
 * arrive (over the websocket or a webhook) before the POST answers. So before each POST we record a pending send
 * (room, sender uuid, content hash); an incoming message matching one is held until the POST settles, then
 * dropped if its uuid is the one chatd returned, released otherwise. A relay send whose POST timed out is not
 * retried and has no uuid: the first matching message seen afterwards is taken as its echo.
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

/** How long a send whose outcome is unknown (a relay POST that timed out) may still come back as an echo. */
export const UNCONFIRMED_ECHO_MS = 15 * 60_000;

export class EchoGuard {
  readonly #pending = new Map<string, Pending[]>();
  readonly #ours = new Set<string>();
  readonly #oursMax: number;
  readonly #now: () => number;
  /** Sends that may have been stored although chatd never answered: key → expiry of each. */
  readonly #unconfirmed = new Map<string, number[]>();

  constructor(oursMax = 50_000, now: () => number = Date.now) {
    this.#oursMax = oursMax;
    this.#now = now;
  }

  /**
   * Records a send before the POST. Call `settle(uuid)` with chatd's answer, or `settle(undefined)` when the
   * POST failed; `settle(undefined, { unconfirmed: true })` when it may have been stored anyway and will not
   * be retried (the relay after a timeout): the first matching message seen later is then taken as its echo.
   * It must be called exactly once.
   */
  begin(
    room: string,
    sender: string,
    content: string,
  ): { settle: (uuid: string | undefined, opts?: { unconfirmed?: boolean }) => void } {
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
      settle: (uuid, opts) => {
        if (uuid) this.#remember(uuid);
        else if (opts?.unconfirmed) this.#expectLate(key);
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

  #expectLate(key: string): void {
    const list = (this.#unconfirmed.get(key) ?? []).filter((t) => t > this.#now());
    list.push(this.#now() + UNCONFIRMED_ECHO_MS);
    this.#unconfirmed.set(key, list);
    if (this.#unconfirmed.size > this.#oursMax) {
      const oldest = this.#unconfirmed.keys().next().value;
      if (oldest !== undefined) this.#unconfirmed.delete(oldest);
    }
  }

  /** Takes one unexpired unconfirmed send for `key`, if any. */
  #takeLate(key: string): boolean {
    const list = this.#unconfirmed.get(key)?.filter((t) => t > this.#now());
    if (!list || list.length === 0) {
      this.#unconfirmed.delete(key);
      return false;
    }
    list.shift();
    if (list.length === 0) this.#unconfirmed.delete(key);
    else this.#unconfirmed.set(key, list);
    return true;
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
    const key = `${msg.room}|${msg.sender}|${contentHash(msg.content)}`;
    const list = this.#pending.get(key);
    if (list && list.length > 0) {
      const results = await Promise.all(list.map((p) => p.done));
      if (results.includes(msg.uuid) || this.#ours.has(msg.uuid)) return true;
    }
    if (!this.#takeLate(key)) return false;
    this.#remember(msg.uuid);
    return true;
  }

  /** Synchronous fast path: false when the message cannot be an echo (nothing in flight or unconfirmed). */
  needsWait(msg: { room: string; sender: string; content: string }): boolean {
    const key = `${msg.room}|${msg.sender}|${contentHash(msg.content)}`;
    return (this.#pending.get(key)?.length ?? 0) > 0 || this.#unconfirmed.has(key);
  }

  isOurs(uuid: string): boolean {
    return this.#ours.has(uuid);
  }
}
