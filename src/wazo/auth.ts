/**
 * wazo-auth: token creation (password or refresh token), revocation, and a renewing token holder.
 * Passwords pass through here once and are never stored or logged.
 */
import { registerSecret } from '../log.ts';
import { toError, type WazoHttp } from './http.ts';
import { tokenSchema, type WazoToken } from './schemas.ts';

const AUTH = '/api/auth/0.1';

/** Lifetime we ask for, in seconds; renewal happens well before it ends. */
export const TOKEN_LIFETIME_S = 3600;

export class AuthClient {
  readonly #http: WazoHttp;
  constructor(http: WazoHttp) {
    this.#http = http;
  }

  /**
   * Exchanges a username/password for a token. With `clientId` the token is `offline` and carries a refresh token
   * for (user, clientId). Never sends `Wazo-Session-Type` (a mobile login would revoke the user's phone sessions).
   */
  async passwordLogin(
    username: string,
    password: string,
    opts: { clientId?: string; expiration?: number } = {},
  ): Promise<WazoToken> {
    // Scrubbed from every log line from now on, should anything ever print it.
    registerSecret(password);
    const body: Record<string, unknown> = { expiration: opts.expiration ?? TOKEN_LIFETIME_S };
    if (opts.clientId) {
      body.access_type = 'offline';
      body.client_id = opts.clientId;
    }
    const res = await this.#http.json(
      { method: 'POST', path: `${AUTH}/token`, basic: { username, password }, body },
      tokenSchema,
    );
    registerSecret(res.data.token);
    registerSecret(res.data.refresh_token);
    return res.data;
  }

  /** Mints an access token from a refresh token (no Basic auth). */
  async refresh(refreshToken: string, clientId: string, expiration = TOKEN_LIFETIME_S): Promise<WazoToken> {
    registerSecret(refreshToken);
    const res = await this.#http.json(
      { method: 'POST', path: `${AUTH}/token`, body: { refresh_token: refreshToken, client_id: clientId, expiration } },
      tokenSchema,
    );
    registerSecret(res.data.token);
    return res.data;
  }

  /** Revokes an access token (the session ends, so chatd stops showing the user as connected). */
  async revokeToken(token: string): Promise<void> {
    await this.#http.ok({ method: 'DELETE', path: `${AUTH}/token/${encodeURIComponent(token)}` });
  }

  /** Deletes the user's refresh token for `clientId`, using one of the user's access tokens. 404 = already gone. */
  async deleteRefreshToken(token: string, clientId: string): Promise<void> {
    const res = await this.#http.raw({
      method: 'DELETE',
      path: `${AUTH}/users/me/tokens/${encodeURIComponent(clientId)}`,
      token,
    });
    if (res.status === 404 || (res.status >= 200 && res.status < 300)) return;
    throw toError({ method: 'DELETE', path: `${AUTH}/users/me/tokens/…` }, res);
  }
}

/**
 * Reads one of wazo-auth's `utc_*` timestamps. wazo-auth writes them as Python `datetime.utcfromtimestamp(t)
 * .isoformat()`, a naive ISO string without offset (`2026-11-22T10:00:00.000001`), which `Date.parse` would take
 * as the bridge's local time; a string without offset is therefore read as UTC. NaN when absent or unparseable.
 */
export function parseWazoUtc(v: string | null | undefined): number {
  if (!v) return Number.NaN;
  return Date.parse(/(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(v) ? v : `${v}Z`);
}

/**
 * How long a fresh token lives, in ms: `utc_expires_at − utc_issued_at` (both from wazo-auth's clock, so a skew
 * between the bridge and Wazo does not matter), else `utc_expires_at − issuedAt` (our clock), else the lifetime we
 * asked for. `expires_at`/`issued_at` are the Wazo host's local time without offset and are never used.
 */
export function tokenLifetimeMs(t: Pick<WazoToken, 'utc_issued_at' | 'utc_expires_at'>, issuedAt: number): number {
  const issued = parseWazoUtc(t.utc_issued_at);
  const expires = parseWazoUtc(t.utc_expires_at);
  if (!Number.isNaN(issued) && !Number.isNaN(expires) && expires > issued) return expires - issued;
  if (!Number.isNaN(expires)) return Math.max(1000, expires - issuedAt);
  return TOKEN_LIFETIME_S * 1000;
}

/** Something that hands out a valid access token and can be told that one was rejected. */
export interface TokenProvider {
  /** Returns a token valid for at least the renewal margin; renews (single flight) when needed. */
  get(): Promise<string>;
  /** Called after a 401: forgets `token` so that the next get() mints a new one. */
  invalidate(token: string): void;
  /** The Wazo user uuid the token acts as (known after the first get()). */
  readonly userUuid: string | undefined;
}

export interface RenewingTokenOptions {
  mint: () => Promise<WazoToken>;
  now?: () => number;
  /** Called with each newly minted token (the websocket forwards it with `op: token`). */
  onRenew?: (token: string) => void;
}

/** Holds one access token and renews it at 80 % of its lifetime (or at once when invalidated). */
export class RenewingToken implements TokenProvider {
  readonly #mint: () => Promise<WazoToken>;
  readonly #now: () => number;
  #onRenew: ((token: string) => void) | undefined;
  #token: string | undefined;
  #renewAt = 0;
  #expiresAt = 0;
  #inflight: Promise<string> | undefined;
  #userUuid: string | undefined;

  constructor(opts: RenewingTokenOptions) {
    this.#mint = opts.mint;
    this.#now = opts.now ?? Date.now;
    this.#onRenew = opts.onRenew;
  }

  get userUuid(): string | undefined {
    return this.#userUuid;
  }

  /** Epoch ms when the current token should be renewed (0 = none held). */
  get renewAt(): number {
    return this.#token ? this.#renewAt : 0;
  }

  set onRenew(fn: ((token: string) => void) | undefined) {
    this.#onRenew = fn;
  }

  async get(): Promise<string> {
    if (this.#token && this.#now() < this.#renewAt) return this.#token;
    this.#inflight ??= this.#renew().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  invalidate(token: string): void {
    if (this.#token === token) this.#token = undefined;
  }

  async #renew(): Promise<string> {
    const issuedAt = this.#now();
    const t = await this.#mint();
    const lifetime = tokenLifetimeMs(t, issuedAt);
    this.#expiresAt = issuedAt + lifetime;
    this.#renewAt = issuedAt + Math.floor(lifetime * 0.8);
    this.#token = t.token;
    this.#userUuid = t.metadata?.uuid ?? t.xivo_user_uuid ?? this.#userUuid;
    this.#onRenew?.(t.token);
    return t.token;
  }

  /** Epoch ms when the held token expires. */
  get expiresAt(): number {
    return this.#expiresAt;
  }
}
