/**
 * wazo-confd users: `GET /users?uuid=a,b` batched by at most 20 uuids (the spec's cap), with a cache that expires,
 * so a burst of messages from the same people costs one lookup. Used for ghost display names, email and phone.
 */
import type { TokenProvider } from './auth.ts';
import { toError, type WazoHttp } from './http.ts';
import { type ConfdUser, confdUserListSchema } from './schemas.ts';

const CONFD = '/api/confd/1.1';
export const CONFD_BATCH = 20;

export interface WazoProfile {
  uuid: string;
  displayName: string;
  email: string | undefined;
  phone: string | undefined;
  username: string | undefined;
}

/** Display name from confd fields: "First Last", else username/email, else undefined. */
export function profileOf(u: ConfdUser): WazoProfile {
  const full = [u.firstname, u.lastname]
    .filter((s) => s?.trim())
    .join(' ')
    .trim();
  return {
    uuid: u.uuid.toLowerCase(),
    displayName: full || u.username || u.email || u.uuid,
    email: u.email || undefined,
    phone: u.mobile_phone_number || undefined,
    username: u.username || undefined,
  };
}

export class ConfdClient {
  readonly #http: WazoHttp;
  readonly #tokens: TokenProvider;
  constructor(http: WazoHttp, tokens: TokenProvider) {
    this.#http = http;
    this.#tokens = tokens;
  }

  /** One confd call for ≤ 20 uuids. Unknown uuids are simply absent from the answer. */
  async usersByUuid(uuids: readonly string[]): Promise<ConfdUser[]> {
    if (uuids.length === 0) return [];
    if (uuids.length > CONFD_BATCH) throw new RangeError(`confd accepts at most ${CONFD_BATCH} uuids per call`);
    const path = `${CONFD}/users?uuid=${uuids.map(encodeURIComponent).join(',')}&view=directory&recurse=true`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.#tokens.get();
      const res = await this.#http.raw({ method: 'GET', path, token, tenant: true });
      if (res.status === 401 && attempt === 0) {
        this.#tokens.invalidate(token);
        continue;
      }
      if (res.status !== 200) throw toError({ method: 'GET', path: `${CONFD}/users` }, res);
      const parsed = confdUserListSchema.safeParse(res.json);
      if (!parsed.success) throw toError({ method: 'GET', path: `${CONFD}/users` }, { status: 502, json: undefined });
      return parsed.data.items;
    }
  }
}

export interface UserDirectoryOptions {
  fetch: (uuids: readonly string[]) => Promise<ConfdUser[]>;
  now?: () => number;
  /** How long an entry (found or not found) is trusted. */
  ttlMs?: number;
}

/** Cached, batched profile lookups; concurrent callers asking for the same uuid share one request. */
export class UserDirectory {
  readonly #fetch: (uuids: readonly string[]) => Promise<ConfdUser[]>;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #cache = new Map<string, { at: number; profile: WazoProfile | undefined }>();
  readonly #pending = new Map<string, Promise<WazoProfile | undefined>>();

  constructor(opts: UserDirectoryOptions) {
    this.#fetch = opts.fetch;
    this.#now = opts.now ?? Date.now;
    this.#ttl = opts.ttlMs ?? 10 * 60_000;
  }

  /** Profiles for these uuids (missing ones map to undefined). */
  async lookup(uuids: readonly string[]): Promise<Map<string, WazoProfile | undefined>> {
    const out = new Map<string, WazoProfile | undefined>();
    const wanted = [...new Set(uuids.map((u) => u.toLowerCase()))];
    const missing: string[] = [];
    const waits: Promise<void>[] = [];
    for (const u of wanted) {
      const hit = this.#cache.get(u);
      if (hit && this.#now() - hit.at < this.#ttl) out.set(u, hit.profile);
      else if (this.#pending.has(u)) waits.push(this.#pending.get(u)!.then((p) => void out.set(u, p)));
      else missing.push(u);
    }
    for (let i = 0; i < missing.length; i += CONFD_BATCH) {
      const batch = missing.slice(i, i + CONFD_BATCH);
      const req = this.#fetch(batch).then((users) => {
        const byUuid = new Map(users.map((x) => [x.uuid.toLowerCase(), profileOf(x)]));
        const at = this.#now();
        for (const u of batch) this.#cache.set(u, { at, profile: byUuid.get(u) });
        return byUuid;
      });
      for (const u of batch) {
        const p = req.then((m) => m.get(u));
        this.#pending.set(u, p);
        // The map entry is removed whatever happens; a failure is surfaced through `waits` below.
        p.finally(() => this.#pending.delete(u)).catch(() => undefined);
        waits.push(p.then((v) => void out.set(u, v)));
      }
    }
    await Promise.all(waits);
    return out;
  }

  /** One profile (cached). */
  async get(uuid: string): Promise<WazoProfile | undefined> {
    return (await this.lookup([uuid])).get(uuid.toLowerCase());
  }
}
