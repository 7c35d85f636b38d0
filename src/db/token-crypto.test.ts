import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import { decryptSecret, encryptSecret, parseEncryptionKey } from './token-crypto.ts';

describe('secret encryption at rest', () => {
  const raw = randomBytes(32);
  it('accepts base64 and hex keys, rejects others', () => {
    assert.deepEqual(parseEncryptionKey(raw.toString('base64')).bytes, raw);
    assert.deepEqual(parseEncryptionKey(raw.toString('hex')).bytes, raw);
    assert.throws(
      () => parseEncryptionKey(undefined),
      (e: unknown) => e instanceof ConfigError && e.keyPath === 'bridge.encryption_key',
    );
    assert.throws(() => parseEncryptionKey('short'), ConfigError);
    assert.throws(() => parseEncryptionKey(randomBytes(16).toString('base64')), ConfigError);
  });
  it('round-trips, hides the plaintext and binds to the user', () => {
    const key = parseEncryptionKey(raw.toString('base64'));
    const stored = encryptSecret(key, 'refresh-abc-123', '@ada:hs');
    assert.doesNotMatch(stored, /refresh-abc-123/);
    assert.notEqual(stored, encryptSecret(key, 'refresh-abc-123', '@ada:hs'), 'fresh IV each time');
    assert.equal(decryptSecret(key, stored, '@ada:hs'), 'refresh-abc-123');
    assert.throws(() => decryptSecret(key, stored, '@eve:hs'), /does not decrypt/);
    assert.throws(
      () => decryptSecret(parseEncryptionKey(randomBytes(32).toString('hex')), stored, '@ada:hs'),
      /does not decrypt/,
    );
  });
});
