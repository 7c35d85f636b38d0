/**
 * Per-room reorder window. Webhook deliveries come from several workers in no order; holding each message up to
 * `windowMs` and releasing by `created_at` restores the order in the common case. A straggler older than what
 * was already released goes out on arrival (keeping its original time through `ts`). `windowMs = 0` passes
 * everything straight through.
 */
import type { Clock } from './timers.ts';

export interface Ordered {
  room: string;
  /** chatd `created_at` as a sortable key (microseconds since epoch). */
  order: number;
}

interface Held<T> {
  item: T;
  deadline: number;
  arrivedAt: number;
}

export class ReorderBuffer<T extends Ordered> {
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #emit: (item: T, heldMs: number, straggler: boolean) => void;
  readonly #rooms = new Map<string, { held: Held<T>[]; timer: unknown; timerAt: number; released: number }>();

  constructor(windowMs: number, clock: Clock, emit: (item: T, heldMs: number, straggler: boolean) => void) {
    this.#windowMs = windowMs;
    this.#clock = clock;
    this.#emit = emit;
  }

  /** Messages currently held. */
  get size(): number {
    let n = 0;
    for (const r of this.#rooms.values()) n += r.held.length;
    return n;
  }

  push(item: T): void {
    const now = this.#clock.now();
    let room = this.#rooms.get(item.room);
    if (!room) {
      room = { held: [], timer: undefined, timerAt: 0, released: Number.NEGATIVE_INFINITY };
      this.#rooms.set(item.room, room);
    }
    if (item.order < room.released) {
      this.#emit(item, 0, true);
      return;
    }
    if (this.#windowMs <= 0) {
      room.released = item.order;
      this.#emit(item, 0, false);
      return;
    }
    const held = { item, deadline: now + this.#windowMs, arrivedAt: now };
    // Insert sorted by order (arrivals are mostly in order, so scan from the end).
    let i = room.held.length;
    while (i > 0 && room.held[i - 1].item.order > item.order) i--;
    room.held.splice(i, 0, held);
    this.#arm(item.room);
  }

  /** Releases everything held now (shutdown). */
  drain(): void {
    for (const key of [...this.#rooms.keys()]) this.#release(key, Number.POSITIVE_INFINITY);
  }

  #arm(key: string): void {
    const room = this.#rooms.get(key);
    if (!room || room.held.length === 0) return;
    const earliest = Math.min(...room.held.map((h) => h.deadline));
    if (room.timer !== undefined && room.timerAt <= earliest) return;
    if (room.timer !== undefined) this.#clock.clearTimeout(room.timer);
    room.timerAt = earliest;
    room.timer = this.#clock.setTimeout(() => {
      room.timer = undefined;
      this.#release(key, this.#clock.now());
    }, earliest - this.#clock.now());
  }

  /** Emits, in order, the prefix of held messages that ends with the last one whose deadline has passed. */
  #release(key: string, now: number): void {
    const room = this.#rooms.get(key);
    if (!room) return;
    let last = -1;
    room.held.forEach((h, i) => {
      if (h.deadline <= now) last = i;
    });
    const out = room.held.splice(0, last + 1);
    for (const h of out) {
      room.released = Math.max(room.released, h.item.order);
      this.#emit(h.item, Math.max(0, Math.min(now, this.#clock.now()) - h.arrivedAt), false);
    }
    if (room.held.length === 0) {
      if (room.timer !== undefined) this.#clock.clearTimeout(room.timer);
      room.timer = undefined;
      return;
    }
    this.#arm(key);
  }
}

/** chatd `created_at` (ISO 8601 with microseconds) → sortable microseconds. */
export function createdAtKey(iso: string): number {
  const ms = Date.parse(iso);
  const m = /\.\d{3}(\d{3})/.exec(iso);
  return ms * 1000 + (m ? Number(m[1]) : 0);
}
