/**
 * The bot's `login` flow for Wazo: username (from `login <username>` or asked), then the password (a secret
 * the core redacts), exchanged once for an offline refresh token with `[wazo] client_id`. Only the refresh token
 * is kept, encrypted (AES-256-GCM) inside the puppet's opaque credentials. `logout` deletes the refresh token.
 */
import {
  type LoginProcess,
  type LoginStep,
  type MatrixUserId,
  type PuppetRecord,
  remoteUserId,
} from '../bridge/index.ts';
import { decryptSecret, type EncryptionKey, encryptSecret } from '../db/token-crypto.ts';
import { AppError, RemoteApiError } from '../errors.ts';
import type { AuthClient } from './auth.ts';
import type { UserDirectory } from './confd.ts';

export const ASK_USERNAME = 'Send your Wazo username.';
export const ASK_PASSWORD = 'Send your Wazo password.';

/** What `PuppetRecord.credentials` holds (the refresh token encrypted, bound to the Matrix user). */
interface StoredCredentials {
  v: 1;
  username: string;
  refresh: string;
}

export function encodeCredentials(
  key: EncryptionKey,
  user: MatrixUserId,
  username: string,
  refreshToken: string,
): string {
  const c: StoredCredentials = { v: 1, username, refresh: encryptSecret(key, refreshToken, user) };
  return JSON.stringify(c);
}

/** Returns the decrypted refresh token, or throws AppError SECRET_UNREADABLE / CREDENTIALS_INVALID. */
export function decodeCredentials(
  key: EncryptionKey,
  user: MatrixUserId,
  credentials: string,
): { username: string; refreshToken: string } {
  let c: unknown;
  try {
    c = JSON.parse(credentials);
  } catch (err) {
    throw new AppError('CREDENTIALS_INVALID', 'stored Wazo credentials are not readable', { cause: err });
  }
  const o = c as Partial<StoredCredentials>;
  if (o?.v !== 1 || typeof o.username !== 'string' || typeof o.refresh !== 'string') {
    throw new AppError('CREDENTIALS_INVALID', 'stored Wazo credentials have an unknown format');
  }
  return { username: o.username, refreshToken: decryptSecret(key, o.refresh, user) };
}

export interface LoginDeps {
  auth: AuthClient;
  directory: UserDirectory;
  key: EncryptionKey;
  clientId: string;
}

/** A user-facing refusal: the core replies with the message. */
function refuse(message: string, cause?: unknown): AppError {
  return new AppError('WAZO_LOGIN_REFUSED', message, { status: 400, errcode: 'M_FORBIDDEN', cause });
}

export class WazoLogin implements LoginProcess {
  readonly #d: LoginDeps;
  readonly #user: MatrixUserId;
  #username: string | undefined;

  constructor(d: LoginDeps, user: MatrixUserId) {
    this.#d = d;
    this.#user = user;
  }

  async start(args: string[]): Promise<LoginStep> {
    const name = args.join(' ').trim();
    if (!name) return { kind: 'input', prompt: ASK_USERNAME };
    this.#username = name;
    return { kind: 'input', prompt: ASK_PASSWORD, secret: true };
  }

  async submit(input: string): Promise<LoginStep> {
    if (this.#username === undefined) {
      const name = input.trim();
      if (!name) return { kind: 'input', prompt: ASK_USERNAME };
      this.#username = name;
      return { kind: 'input', prompt: ASK_PASSWORD, secret: true };
    }
    return this.#exchange(this.#username, input);
  }

  async #exchange(username: string, password: string): Promise<LoginStep> {
    let token: Awaited<ReturnType<AuthClient['passwordLogin']>>;
    try {
      token = await this.#d.auth.passwordLogin(username, password, { clientId: this.#d.clientId });
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 401) {
        throw refuse('Wazo refused this username or password. Send `login` to try again.', err);
      }
      if (err instanceof RemoteApiError && err.remoteStatus === 429) {
        throw refuse('Wazo says this account has too many open sessions. Close some and send `login` again.', err);
      }
      throw refuse('Wazo could not be reached to log you in. Try again in a moment.', err);
    }
    const uuid = (token.metadata?.pbx_user_uuid ?? token.xivo_user_uuid ?? '').toLowerCase();
    if (!uuid) {
      // Best effort: an unrevoked token simply expires after its lifetime.
      await this.#d.auth.revokeToken(token.token).catch(() => undefined);
      throw refuse('This Wazo account is not a PBX user, so it cannot chat. Log in with your own Wazo user.');
    }
    if (!token.refresh_token)
      throw refuse('Wazo did not issue a refresh token for this login. Ask an admin to check wazo-auth.');
    // confd down only costs the nice name in the confirmation: fall back to the username.
    const profile = await this.#d.directory.get(uuid).catch(() => undefined);
    // Only the refresh token is kept: the access token from the password login is revoked at once (best effort,
    // it expires anyway).
    await this.#d.auth.revokeToken(token.token).catch(() => undefined);
    const name = profile?.displayName && profile.displayName !== uuid ? profile.displayName : username;
    const puppet: Omit<PuppetRecord, 'matrixUser'> = {
      remoteUser: remoteUserId(uuid),
      remoteName: `${name} (${username})`,
      credentials: encodeCredentials(this.#d.key, this.#user, username, token.refresh_token),
    };
    return { kind: 'done', puppet, message: `Logged in as ${name} (${username})` };
  }
}

/** Revokes a puppet's refresh token on Wazo (needs one access token minted from it first). */
export async function revokePuppet(d: LoginDeps, puppet: PuppetRecord): Promise<void> {
  const { refreshToken } = decodeCredentials(d.key, puppet.matrixUser, puppet.credentials);
  let access: string;
  try {
    access = (await d.auth.refresh(refreshToken, d.clientId)).token;
  } catch (err) {
    // 401: the refresh token is already revoked on Wazo, which is the goal of logout.
    if (err instanceof RemoteApiError && err.remoteStatus === 401) return;
    throw err;
  }
  await d.auth.deleteRefreshToken(access, d.clientId);
  await d.auth.revokeToken(access);
}
