import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseWazoUtc, RenewingToken, tokenLifetimeMs } from './auth.ts';
import type { WazoToken } from './schemas.ts';

// wazo-auth's token body (reference §2; wazo_auth/token.py `Token.to_dict`): `utc_issued_at`/`utc_expires_at` are
// `datetime.utcfromtimestamp(t).isoformat()` — naive UTC, no offset — and `issued_at`/`expires_at` the Wazo host's
// local time, also without offset.
const ISSUED = Date.UTC(2026, 10, 22, 9, 0, 0);
const realToken: WazoToken = {
  token: 't1',
  issued_at: '2026-11-22T04:00:00.000001',
  expires_at: '2026-11-22T05:00:00.000001',
  utc_issued_at: '2026-11-22T09:00:00.000001',
  utc_expires_at: '2026-11-22T10:00:00.000001',
} as WazoToken;

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('wazo-auth token lifetime', () => {
  it('reads naive utc_* timestamps as UTC whatever the bridge’s time zone', () => {
    for (const tz of ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Tokyo']) {
      process.env.TZ = tz;
      assert.equal(parseWazoUtc('2026-11-22T10:00:00.000001'), Date.UTC(2026, 10, 22, 10, 0, 0), tz);
      assert.equal(parseWazoUtc('2026-11-22T10:00:00'), Date.UTC(2026, 10, 22, 10, 0, 0), tz);
      // Values that carry an offset are taken as they are.
      assert.equal(parseWazoUtc('2026-11-22T10:00:00.000001+00:00'), Date.UTC(2026, 10, 22, 10, 0, 0), tz);
      assert.equal(parseWazoUtc('2026-11-22T11:00:00+01:00'), Date.UTC(2026, 10, 22, 10, 0, 0), tz);
      assert.equal(parseWazoUtc('2026-11-22T10:00:00.000Z'), Date.UTC(2026, 10, 22, 10, 0, 0), tz);
      assert.ok(Number.isNaN(parseWazoUtc(null)));
    }
  });

  for (const tz of ['America/New_York', 'Europe/Paris']) {
    it(`RenewingToken renews at 80 % of a real wazo-auth token's life (TZ=${tz})`, async () => {
      process.env.TZ = tz;
      const tok = new RenewingToken({ now: () => ISSUED, mint: async () => realToken });
      assert.equal(await tok.get(), 't1');
      assert.equal(tok.expiresAt, ISSUED + 3_600_000);
      assert.equal(tok.renewAt, ISSUED + 2_880_000);
    });
  }

  it('uses wazo-auth’s own issued/expiry pair, so a skewed bridge clock does not matter', () => {
    // Bridge clock 10 minutes ahead of Wazo.
    assert.equal(tokenLifetimeMs(realToken, ISSUED + 600_000), 3_600_000);
    // Only the expiry: measured against our clock.
    assert.equal(tokenLifetimeMs({ utc_expires_at: realToken.utc_expires_at }, ISSUED), 3_600_000);
    // Nothing usable: the lifetime we asked for.
    assert.equal(tokenLifetimeMs({}, ISSUED), 3_600_000);
  });
});
