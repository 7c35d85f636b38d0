import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SegmentMessage, segmentMetrics, splitSegments } from './segments.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const GAP = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const c = (min: number, who = '@cust:x'): SegmentMessage => ({
  eventId: `$c${min}`,
  ts: T0 + min * MIN,
  sender: who,
  role: 'customer',
  encrypted: false,
  customerKey: `mxid:${who}`,
});
const s = (min: number, who = '@alice:hs'): SegmentMessage => ({
  eventId: `$s${min}`,
  ts: T0 + min * MIN,
  sender: who,
  role: 'staff',
  encrypted: false,
  customerKey: null,
});

describe('conversation segments', () => {
  it('splits on idle gaps longer than conversation_gap, not on equal ones', () => {
    const msgs = [c(0), s(10), c(10 + 24 * 60), c(10 + 48 * 60 + 1)];
    const segs = splitSegments(msgs, GAP);
    assert.deepEqual(
      segs.map((x) => x.map((m) => m.eventId)),
      [['$c0', '$s10', `$c${10 + 24 * 60}`], [`$c${10 + 48 * 60 + 1}`]],
    );
  });

  it('hand-checked metrics of a resolved segment', () => {
    // 09:00 customer, 09:02 customer, 09:15 alice (first response 15 min), 09:20 customer,
    // 09:50 bob (second response 30 min), 10:00 alice; closed by a later segment.
    const seg = [c(0), c(2), s(15), c(20), s(50, '@bob:hs'), s(60)];
    const m = segmentMetrics(seg, { gapMs: GAP, now: T0 + 2 * HOUR, closed: true });
    assert.deepEqual(m, {
      startedAt: T0,
      lastMessageAt: T0 + HOUR,
      messageCount: 6,
      customerMessageCount: 3,
      agentMessageCount: 3,
      firstResponseSeconds: 900,
      meanResponseSeconds: (900 + 1800) / 2,
      resolutionSeconds: 3600,
      status: 'RESOLVED',
      agents: ['@alice:hs', '@bob:hs'],
      encrypted: false,
      customerKey: 'mxid:@cust:x',
    });
  });

  it('status: OPEN while the customer spoke last, WAITING_ON_CUSTOMER after staff, RESOLVED once idle for the gap', () => {
    const open = segmentMetrics([c(0), s(5), c(9)], { gapMs: GAP, now: T0 + 3 * GAP, closed: false });
    assert.equal(open.status, 'OPEN');
    assert.equal(open.resolutionSeconds, null);
    assert.equal(open.meanResponseSeconds, 300, 'the unanswered last turn is not in the mean');
    const waiting = segmentMetrics([c(0), s(5)], { gapMs: GAP, now: T0 + 5 * MIN + GAP, closed: false });
    assert.equal(waiting.status, 'WAITING_ON_CUSTOMER');
    assert.equal(waiting.resolutionSeconds, null);
    const resolved = segmentMetrics([c(0), s(5)], { gapMs: GAP, now: T0 + 5 * MIN + GAP + 1, closed: false });
    assert.equal(resolved.status, 'RESOLVED');
    assert.equal(resolved.resolutionSeconds, 300);
  });

  it('no customer message: no first response; only staff spoke', () => {
    const m = segmentMetrics([s(0), s(1, '@bob:hs')], { gapMs: GAP, now: T0, closed: false });
    assert.equal(m.firstResponseSeconds, null);
    assert.equal(m.meanResponseSeconds, null);
    assert.equal(m.customerKey, null);
    assert.equal(m.status, 'WAITING_ON_CUSTOMER');
  });

  it('unanswered customer: OPEN with null response times, flagged encrypted when any message was', () => {
    const m = segmentMetrics([{ ...c(0), encrypted: true }], { gapMs: GAP, now: T0 + 10 * GAP, closed: true });
    assert.equal(m.status, 'OPEN');
    assert.equal(m.firstResponseSeconds, null);
    assert.equal(m.encrypted, true);
  });
});
