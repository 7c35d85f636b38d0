/**
 * The token method of double puppeting (the bot's `login-matrix`, as in mautrix bridges): a Matrix user gives
 * the bot an access token of their own account. The bridge checks it with `GET /account/whoami` made with that
 * token (no appservice identity assertion), keeps it encrypted with `[bridge] encryption_key` (bound to the user),
 * and sends the user's remote messages with it. It comes before the appservice method (`[bridge.double_puppet]`),
 * which comes before the ghost.
 */
import { decryptSecret, type EncryptionKey, encryptSecret } from '../db/index.ts';
import { AppError, describeError, RemoteApiError } from '../errors.ts';
import { type Logger, registerSecret } from '../log.ts';
import { IntentFactory, type MatrixApi } from '../matrix/index.ts';
import type { CoreContext } from './context.ts';
import type { MatrixUserId } from './ids.ts';
import type { BridgeStore } from './store.ts';

/** What {@link MatrixTokens.link} did: stored, or why not (one user-facing sentence). */
export type LinkResult = { ok: true } | { ok: false; reason: string };

export interface MatrixTokensDeps {
  store: BridgeStore;
  /** The appservice's client: its homeserver, retry policy and timeout are reused with the user's token. */
  api: MatrixApi;
  /** `[bridge] encryption_key`; without it no token can be stored. */
  key: EncryptionKey | undefined;
  /** Our homeserver's server name: only its users' tokens are accepted. */
  domain: string;
  log: Logger;
  now: () => number;
}

/** Additional data of the ciphertext: the owner, with a purpose so a Wazo secret's row never passes for one. */
const boundTo = (user: string) => `matrix-token:${user}`;

/** An access token is opaque printable ASCII without spaces (Synapse `syt_…`, MAS `mat_…`). */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,4096}$/;

/** True when the homeserver no longer accepts a user's token (401: M_UNKNOWN_TOKEN, soft logout, locked). */
export function isRejectedToken(err: unknown): boolean {
  return (
    (err instanceof RemoteApiError && err.remoteStatus === 401) ||
    (err instanceof AppError && err.code === 'SECRET_UNREADABLE')
  );
}

/** How a linked user's remote messages appear when they have no token: the next method, for replies. */
export function withoutToken(c: Pick<CoreContext, 'doublePuppet' | 'connector'>): string {
  return c.doublePuppet
    ? 'appear as your Matrix account, through the bridge’s double-puppeting registration'
    : `appear as your ${c.connector?.displayName ?? 'remote'} ghost`;
}

export class MatrixTokens {
  readonly #d: MatrixTokensDeps;
  /** Decrypted clients by user, so a token is decrypted once per process. */
  readonly #cache = new Map<string, IntentFactory>();

  constructor(d: MatrixTokensDeps) {
    this.#d = d;
  }

  /** Checks `token` with whoami and stores it for `user` when it is theirs. Never logs the token. */
  async link(user: MatrixUserId, token: string): Promise<LinkResult> {
    registerSecret(token);
    const key = this.#d.key;
    // Without `[bridge] encryption_key` a token could not be stored safely: login-matrix is off.
    if (!key)
      return {
        ok: false,
        reason:
          'login-matrix is off because the bridge administrator has not set MCB_BRIDGE_ENCRYPTION_KEY ([bridge] encryption_key), which I need to store your token safely.',
      };
    if (user.slice(user.indexOf(':') + 1) !== this.#d.domain)
      return {
        ok: false,
        reason: `only users of ${this.#d.domain} can use login-matrix: I can only use access tokens of my own homeserver.`,
      };
    if (!TOKEN_SHAPE.test(token))
      return { ok: false, reason: 'that is not an access token (printable characters without spaces).' };
    const intents = new IntentFactory(this.#d.api.forUser(user, token));
    let who: { user_id?: unknown };
    try {
      who = await intents.bot.whoami({ maxAttempts: 2 });
    } catch (err) {
      if (err instanceof RemoteApiError && err.remoteStatus === 401) {
        return {
          ok: false,
          reason: `the homeserver does not accept this access token (${err.remoteCode ?? 'HTTP 401'}): it is wrong, expired or logged out.`,
        };
      }
      this.#d.log.warn({ user, err: describeError(err) }, 'login-matrix: whoami failed');
      return { ok: false, reason: 'I could not check it with the homeserver just now; try again in a moment.' };
    }
    if (typeof who.user_id !== 'string') {
      this.#d.log.warn({ user }, 'login-matrix: whoami answered without user_id');
      return { ok: false, reason: 'the homeserver did not say whose token it is.' };
    }
    if (who.user_id !== user)
      return { ok: false, reason: `this access token belongs to ${who.user_id}, not to you (${user}).` };
    this.#d.store.matrixTokenSave(user, encryptSecret(key, token, boundTo(user)), this.#d.now());
    this.#cache.set(user, intents);
    this.#d.log.info({ user }, 'login-matrix: double-puppeting token stored');
    return { ok: true };
  }

  /** Forgets the user's token (never logs their Matrix session out). True when there was one. */
  forget(user: MatrixUserId): boolean {
    this.#cache.delete(user);
    return this.#d.store.matrixTokenDelete(user);
  }

  /**
   * Intents acting as `user` with their own token, or undefined when they gave none. Throws AppError
   * SECRET_UNREADABLE when the stored token cannot be decrypted (key changed or removed).
   */
  intents(user: MatrixUserId): IntentFactory | undefined {
    const cached = this.#cache.get(user);
    if (cached) return cached;
    const stored = this.#d.store.matrixToken(user);
    if (stored === undefined) return undefined;
    const key = this.#d.key;
    if (!key)
      throw new AppError('SECRET_UNREADABLE', 'a Matrix access token is stored but [bridge] encryption_key is not set');
    const token = decryptSecret(key, stored, boundTo(user));
    registerSecret(token);
    const intents = new IntentFactory(this.#d.api.forUser(user, token));
    this.#cache.set(user, intents);
    return intents;
  }
}
