/**
 * Conversation segments and their support metrics. Pure: no I/O, `now` passed in.
 *
 * A room's messages (customer and staff, never bots; ordered by origin_server_ts) are split wherever two
 * consecutive messages are more than `gapMs` apart. Per segment:
 * - first response: first staff message after the first customer message, minus that customer message;
 * - mean response: for every customer turn (customer messages after a staff message, or at the start), the
 *   first staff message after the turn's first message minus that message; averaged over answered turns;
 * - status: OPEN while the last message is the customer's (nobody answered yet, whatever the age);
 *   WAITING_ON_CUSTOMER when staff spoke last and the segment is still live (less than `gapMs` ago and
 *   no later segment); RESOLVED when staff spoke last and the segment is closed (idle for `gapMs`, or a later
 *   segment exists). A segment where only staff spoke follows the same rules.
 * - resolution: for RESOLVED segments, last staff message minus segment start; otherwise null.
 */
import type { ConversationStatus } from '../db/schema/history.ts';

export interface SegmentMessage {
  eventId: string;
  ts: number;
  sender: string;
  role: 'customer' | 'staff';
  encrypted: boolean;
  /** Customer key of the sender (groups: each ghost has its own). */
  customerKey: string | null;
}

export interface SegmentMetrics {
  startedAt: number;
  lastMessageAt: number;
  messageCount: number;
  customerMessageCount: number;
  agentMessageCount: number;
  firstResponseSeconds: number | null;
  meanResponseSeconds: number | null;
  resolutionSeconds: number | null;
  status: ConversationStatus;
  agents: string[];
  encrypted: boolean;
  /** The first customer who spoke (null when only staff spoke). */
  customerKey: string | null;
}

/** Splits ts-ordered messages wherever the idle time between two messages exceeds `gapMs`. */
export function splitSegments<T extends { ts: number }>(messages: readonly T[], gapMs: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  for (const m of messages) {
    const last = cur.at(-1);
    if (last && m.ts - last.ts > gapMs) {
      out.push(cur);
      cur = [];
    }
    cur.push(m);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Metrics of one segment built message by message (ts order), so a room of any size is summarised without
 * holding its messages in memory.
 */
export class SegmentAccumulator {
  #first: SegmentMessage | undefined;
  #last: SegmentMessage | undefined;
  #customer = 0;
  #agent = 0;
  readonly #agents: string[] = [];
  #encrypted = false;
  #customerKey: string | null = null;
  #firstCustomerAt: number | null = null;
  #firstResponse: number | null = null;
  #turnStart: number | null = null;
  #responseSum = 0;
  #responses = 0;
  #lastStaffAt: number | null = null;

  /** True once a customer message was added. */
  get hasCustomerMessage(): boolean {
    return this.#customer > 0;
  }

  /** Timestamp of the last message added, or undefined when empty. */
  get lastTs(): number | undefined {
    return this.#last?.ts;
  }

  add(m: SegmentMessage): void {
    this.#first ??= m;
    this.#last = m;
    if (m.encrypted) this.#encrypted = true;
    if (m.role === 'customer') {
      this.#customer++;
      this.#customerKey ??= m.customerKey;
      this.#firstCustomerAt ??= m.ts;
      this.#turnStart ??= m.ts;
      return;
    }
    this.#agent++;
    this.#lastStaffAt = m.ts;
    if (!this.#agents.includes(m.sender)) this.#agents.push(m.sender);
    if (this.#firstCustomerAt !== null && this.#firstResponse === null)
      this.#firstResponse = m.ts - this.#firstCustomerAt;
    if (this.#turnStart !== null) {
      this.#responseSum += m.ts - this.#turnStart;
      this.#responses++;
      this.#turnStart = null;
    }
  }

  /** The metrics; `closed` = a later segment exists in the room. */
  finish(o: { gapMs: number; now: number; closed: boolean }): SegmentMetrics {
    const first = this.#first;
    const last = this.#last;
    if (!first || !last) throw new RangeError('a segment has at least one message');
    const closed = o.closed || o.now - last.ts > o.gapMs;
    const status: ConversationStatus = last.role === 'customer' ? 'OPEN' : closed ? 'RESOLVED' : 'WAITING_ON_CUSTOMER';
    return {
      startedAt: first.ts,
      lastMessageAt: last.ts,
      messageCount: this.#customer + this.#agent,
      customerMessageCount: this.#customer,
      agentMessageCount: this.#agent,
      firstResponseSeconds: this.#firstResponse === null ? null : this.#firstResponse / 1000,
      meanResponseSeconds: this.#responses === 0 ? null : this.#responseSum / this.#responses / 1000,
      resolutionSeconds:
        status === 'RESOLVED' && this.#lastStaffAt !== null ? (this.#lastStaffAt - first.ts) / 1000 : null,
      status,
      agents: [...this.#agents],
      encrypted: this.#encrypted,
      customerKey: this.#customerKey,
    };
  }
}

/** Metrics of one segment. `closed` = a later segment exists in the room. */
export function segmentMetrics(
  msgs: readonly SegmentMessage[],
  o: { gapMs: number; now: number; closed: boolean },
): SegmentMetrics {
  const acc = new SegmentAccumulator();
  for (const m of msgs) acc.add(m);
  return acc.finish(o);
}
