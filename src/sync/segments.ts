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

/** Metrics of one segment. `closed` = a later segment exists in the room. */
export function segmentMetrics(
  msgs: readonly SegmentMessage[],
  o: { gapMs: number; now: number; closed: boolean },
): SegmentMetrics {
  const first = msgs[0];
  const last = msgs.at(-1);
  if (!first || !last) throw new RangeError('a segment has at least one message');
  let customer = 0;
  let agent = 0;
  const agents: string[] = [];
  let encrypted = false;
  let customerKey: string | null = null;
  let firstCustomerAt: number | null = null;
  let firstResponse: number | null = null;
  let turnStart: number | null = null;
  const responses: number[] = [];
  let lastStaffAt: number | null = null;
  for (const m of msgs) {
    if (m.encrypted) encrypted = true;
    if (m.role === 'customer') {
      customer++;
      customerKey ??= m.customerKey;
      firstCustomerAt ??= m.ts;
      turnStart ??= m.ts;
    } else {
      agent++;
      lastStaffAt = m.ts;
      if (!agents.includes(m.sender)) agents.push(m.sender);
      if (firstCustomerAt !== null && firstResponse === null) firstResponse = m.ts - firstCustomerAt;
      if (turnStart !== null) {
        responses.push(m.ts - turnStart);
        turnStart = null;
      }
    }
  }
  const closed = o.closed || o.now - last.ts > o.gapMs;
  let status: ConversationStatus;
  if (last.role === 'customer') status = 'OPEN';
  else status = closed ? 'RESOLVED' : 'WAITING_ON_CUSTOMER';
  const sec = (ms: number) => ms / 1000;
  return {
    startedAt: first.ts,
    lastMessageAt: last.ts,
    messageCount: msgs.length,
    customerMessageCount: customer,
    agentMessageCount: agent,
    firstResponseSeconds: firstResponse === null ? null : sec(firstResponse),
    meanResponseSeconds: responses.length === 0 ? null : sec(responses.reduce((a, b) => a + b, 0) / responses.length),
    resolutionSeconds: status === 'RESOLVED' && lastStaffAt !== null ? sec(lastStaffAt - first.ts) : null,
    status,
    agents,
    encrypted,
    customerKey,
  };
}
