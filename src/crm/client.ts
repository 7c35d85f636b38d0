/**
 * The Twenty GraphQL client (graphql-request) for `POST {url}/graphql` and `POST {url}/metadata`.
 *
 * Several root fields may share one document; each costs one token of the shared {@link TokenBucket}.
 * Rate-limit answers (HTTP 200 + `BAD_USER_INPUT` "rate limit", or HTTP 429) back off and retry only the
 * root fields that failed; 5xx and network errors retry the request with capped backoff. Other per-field
 * errors are handed back to the caller (content rejections are the caller's business).
 */
import { ClientError, GraphQLClient } from 'graphql-request';
import { RemoteApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type Sleep, TokenBucket } from './token-bucket.ts';

export interface RootCall {
  /** Root field name, e.g. `createPeople`. */
  field: string;
  /** Argument list using the call's own variable names, e.g. `data: $data, upsert: true`. */
  args?: string;
  /** Selection set without braces, e.g. `id`; empty for scalar results. */
  selection: string;
  /** Variables used in `args`: name → GraphQL type and value. */
  vars?: Record<string, { type: string; value: unknown }>;
}

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; userFriendlyMessage?: string };
}

export type RootResult = { ok: true; data: unknown } | { ok: false; error: GraphQLErrorShape };

/** The document itself was refused (unknown field, bad type): the cached data model is stale. */
export class TwentySchemaError extends RemoteApiError {
  constructor(message: string, cause?: unknown) {
    super('twenty', 400, message, { remoteCode: 'GRAPHQL_VALIDATION_FAILED', cause });
  }
}

export interface TwentyClientOptions {
  url: string;
  apiKey: string;
  opsPerMinute: number;
  now: () => number;
  sleep: Sleep;
  log: Logger;
  signal?: AbortSignal;
  /** Retries for 5xx / network errors before giving up (default 6). */
  maxTransientRetries?: number;
  /** Retries of rate-limited fields before giving up (default 30). */
  maxRateLimitRetries?: number;
}

const BACKOFF_CAP_MS = 60_000;

export function isRateLimitError(e: GraphQLErrorShape): boolean {
  return /rate limit|limit reached|too many requests/i.test(`${e.message} ${e.extensions?.userFriendlyMessage ?? ''}`);
}

export class TwentyClient {
  readonly bucket: TokenBucket;
  /** Root operations sent (tokens used), including retries. */
  operations = 0;
  /** Root mutations sent. */
  mutations = 0;
  /** Milliseconds slept in back-off (excluding bucket waits). */
  backoffMs = 0;
  private readonly core: GraphQLClient;
  private readonly meta: GraphQLClient;
  private readonly opts: TwentyClientOptions;

  constructor(opts: TwentyClientOptions) {
    this.opts = opts;
    this.bucket = new TokenBucket({ perMinute: opts.opsPerMinute, now: opts.now, sleep: opts.sleep });
    const base = opts.url.replace(/\/+$/, '');
    const headers = { authorization: `Bearer ${opts.apiKey}` };
    this.core = new GraphQLClient(`${base}/graphql`, { headers, errorPolicy: 'all' });
    this.meta = new GraphQLClient(`${base}/metadata`, { headers, errorPolicy: 'all' });
  }

  /** Runs root calls against the core API (`/graphql`). Results are in call order. */
  graphql(kind: 'query' | 'mutation', calls: RootCall[]): Promise<RootResult[]> {
    return this.run(this.core, kind, calls);
  }

  /** Runs root calls against the metadata API (`/metadata`). */
  metadata(kind: 'query' | 'mutation', calls: RootCall[]): Promise<RootResult[]> {
    return this.run(this.meta, kind, calls);
  }

  private async run(client: GraphQLClient, kind: 'query' | 'mutation', calls: RootCall[]): Promise<RootResult[]> {
    const results: (RootResult | undefined)[] = calls.map(() => undefined);
    let pending = calls.map((_, i) => i);
    let rateRetries = 0;
    let transientRetries = 0;
    while (pending.length > 0) {
      await this.bucket.take(pending.length, this.opts.signal);
      this.operations += pending.length;
      if (kind === 'mutation') this.mutations += pending.length;
      const outcome = await this.send(
        client,
        kind,
        pending.map((i) => calls[i]),
      );
      if (outcome.kind === 'transient') {
        if (++transientRetries > (this.opts.maxTransientRetries ?? 6)) throw outcome.error;
        await this.backoff(transientRetries, outcome.error.retryAfterMs, 'twenty transient error, retrying');
        continue;
      }
      if (outcome.kind === 'rateLimited') {
        this.bucket.drain();
        if (++rateRetries > (this.opts.maxRateLimitRetries ?? 30)) throw outcome.error;
        await this.backoff(rateRetries, outcome.error.retryAfterMs, 'twenty rate limit (HTTP 429), backing off');
        continue;
      }
      const limited: number[] = [];
      outcome.results.forEach((r, j) => {
        const idx = pending[j];
        if (!r.ok && isRateLimitError(r.error)) limited.push(idx);
        else results[idx] = r;
      });
      pending = limited;
      if (limited.length > 0) {
        this.bucket.drain();
        if (++rateRetries > (this.opts.maxRateLimitRetries ?? 30)) {
          throw new RemoteApiError('twenty', 200, 'rate limit still reached after many retries', {
            remoteCode: 'BAD_USER_INPUT',
          });
        }
        await this.backoff(
          rateRetries,
          undefined,
          'twenty rate limit reached, retrying failed root fields',
          limited.length,
        );
      }
    }
    return results as RootResult[];
  }

  private async backoff(
    attempt: number,
    retryAfterMs: number | undefined,
    msg: string,
    fields?: number,
  ): Promise<void> {
    const ms = retryAfterMs ?? Math.min(BACKOFF_CAP_MS, 1000 * 2 ** (attempt - 1));
    this.opts.log.warn({ attempt, wait_ms: ms, fields }, msg);
    this.backoffMs += ms;
    await this.opts.sleep(ms, this.opts.signal);
  }

  private async send(
    client: GraphQLClient,
    kind: 'query' | 'mutation',
    calls: RootCall[],
  ): Promise<
    | { kind: 'done'; results: RootResult[] }
    | { kind: 'transient'; error: RemoteApiError }
    | { kind: 'rateLimited'; error: RemoteApiError }
  > {
    const { document, variables } = buildDocument(kind, calls);
    let response: { data?: unknown; errors?: GraphQLErrorShape[] };
    try {
      response = (await client.rawRequest(document, variables)) as typeof response;
    } catch (err) {
      if (err instanceof ClientError) {
        const status = err.response.status;
        const errors = (err.response.errors ?? []) as GraphQLErrorShape[];
        const first = errors[0];
        const message = first?.message ?? `HTTP ${status}`;
        const retryAfter = Number(err.response.headers?.get?.('retry-after'));
        const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
        if (status === 429)
          return { kind: 'rateLimited', error: new RemoteApiError('twenty', 429, message, { retryAfterMs }) };
        if (status >= 500)
          return {
            kind: 'transient',
            error: new RemoteApiError('twenty', status, message, { remoteCode: first?.extensions?.code }),
          };
        if (status === 401 || status === 403) throw authError(status, first?.extensions?.code, message, err);
        if (
          first?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' ||
          first?.extensions?.code === 'GRAPHQL_PARSE_FAILED'
        ) {
          throw new TwentySchemaError(errors.map((e) => e.message).join('; '), err);
        }
        if (errors.length > 0 && status === 200) response = { data: err.response.data, errors };
        else throw new RemoteApiError('twenty', status, message, { remoteCode: first?.extensions?.code, cause: err });
      } else {
        return {
          kind: 'transient',
          error: new RemoteApiError('twenty', 0, `network error: ${(err as Error).message}`, { cause: err }),
        };
      }
    }
    const data = (response.data ?? {}) as Record<string, unknown>;
    const errors = response.errors ?? [];
    // Twenty's GraphQL auth middleware (MiddlewareService.writeGraphqlResponseOnExceptionCaught) answers a
    // bad, revoked or expired key with HTTP 200 and a path-less UNAUTHENTICATED error (reference §3 codes),
    // not with 401. It concerns the request, never one record: fail the run instead of parking records.
    // A path-less FORBIDDEN comes from the same middleware (suspended workspace, pending approval).
    const denied = errors.find(
      (e) => e.extensions?.code === 'UNAUTHENTICATED' || (!e.path && e.extensions?.code === 'FORBIDDEN'),
    );
    if (denied) {
      const code = denied.extensions?.code;
      throw authError(code === 'FORBIDDEN' ? 403 : 401, code, denied.message);
    }
    const results = calls.map((_, i): RootResult => {
      const alias = `r${i}`;
      const error = errors.find((e) => e.path?.[0] === alias);
      if (error) return { ok: false, error };
      if (!(alias in data)) {
        const whole = errors.find((e) => !e.path) ?? { message: 'no data returned for root field' };
        return { ok: false, error: whole };
      }
      return { ok: true, data: data[alias] };
    });
    return { kind: 'done', results };
  }
}

function authError(status: number, code: string | undefined, message: string, cause?: unknown): RemoteApiError {
  return new RemoteApiError('twenty', status, `${message} (check MCB_TWENTY_API_KEY and [twenty] url)`, {
    remoteCode: code,
    cause,
  });
}

/** Builds one document with aliased root fields `r0`, `r1`, … and per-call variable names. */
export function buildDocument(
  kind: 'query' | 'mutation',
  calls: RootCall[],
): { document: string; variables: Record<string, unknown> } {
  const decls: string[] = [];
  const variables: Record<string, unknown> = {};
  const fields = calls.map((c, i) => {
    let args = c.args ?? '';
    for (const [name, v] of Object.entries(c.vars ?? {})) {
      const renamed = `${name}_${i}`;
      decls.push(`$${renamed}: ${v.type}`);
      variables[renamed] = v.value;
      args = args.replace(new RegExp(`\\$${name}\\b`, 'g'), `$${renamed}`);
    }
    const argText = args ? `(${args})` : '';
    const sel = c.selection ? ` { ${c.selection} }` : '';
    return `r${i}: ${c.field}${argText}${sel}`;
  });
  const header = decls.length > 0 ? `(${decls.join(', ')})` : '';
  return { document: `${kind} Mcb${header} { ${fields.join(' ')} }`, variables };
}
