/**
 * Secrets at rest (users' Wazo refresh tokens, the Matrix access tokens given for double puppeting):
 * AES-256-GCM with a key from `MCB_BRIDGE_ENCRYPTION_KEY` (32 bytes, base64 or 64 hex chars). The caller binds
 * each secret to its owner (the Matrix user ID, with a purpose prefix where needed) as additional data, so a row
 * copied onto another user does not decrypt. Stored form: `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError, ConfigError } from '../errors.ts';

export type EncryptionKey = { readonly bytes: Buffer };

/** Parses the configured key; throws ConfigError naming `bridge.encryption_key` with the fix. */
export function parseEncryptionKey(raw: string | undefined): EncryptionKey {
  const fix = 'set MCB_BRIDGE_ENCRYPTION_KEY to 32 random bytes, e.g. `openssl rand -base64 32`';
  if (!raw)
    throw new ConfigError('bridge.encryption_key', `bridge.encryption_key is required when [wazo] url is set: ${fix}`);
  const s = raw.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(s)) bytes = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) bytes = b;
  }
  if (!bytes)
    throw new ConfigError(
      'bridge.encryption_key',
      `bridge.encryption_key must be 32 bytes as base64 or 64 hex chars: ${fix}`,
    );
  return { bytes };
}

export function encryptSecret(key: EncryptionKey, plaintext: string, boundTo: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join(
    '.',
  );
}

export function decryptSecret(key: EncryptionKey, stored: string, boundTo: string): string {
  const parts = stored.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1')
    throw new AppError('SECRET_UNREADABLE', 'stored secret has an unknown format');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(parts[1], 'base64url'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(parts[2], 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[3], 'base64url')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new AppError('SECRET_UNREADABLE', 'stored secret does not decrypt with the configured key (key changed?)', {
      cause: err,
    });
  }
}
