/**
 * A small JSON-over-HTTP client for the Wazo daemons, on node:http/https so that `[wazo] verify_tls = false`
 * (self-signed lab certificates) and keep-alive work without another dependency. Every failure becomes a
 * RemoteApiError (service "wazo-<daemon>", status 0 for network errors, remoteCode "timeout" for timeouts).
 */
import http from 'node:http';
import https from 'node:https';
import type { z } from 'zod';
import { RemoteApiError } from '../errors.ts';
import { wazoErrorSchema } from './schemas.ts';

export interface WazoHttpOptions {
  /** Wazo base URL, e.g. `https://wazo.example.com`. */
  baseUrl: string;
  verifyTls: boolean;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** `Wazo-Tenant` header for admin-style endpoints; empty = none. */
  tenant?: string;
}

export interface WazoRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path below the base URL, starting with `/api/...`, query string included. */
  path: string;
  token?: string;
  basic?: { username: string; password: string };
  body?: unknown;
  /** Send the `Wazo-Tenant` header (admin endpoints only; chatd `/users/me` ignores it anyway). */
  tenant?: boolean;
}

export interface WazoResponse {
  status: number;
  json: unknown;
}

/** Names the daemon from the path, for error messages and metrics labels. */
export function serviceOf(path: string): string {
  const m = /^\/api\/([a-z]+)\//.exec(path);
  return `wazo-${m ? m[1] : 'api'}`;
}

export class WazoHttp {
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;
  readonly #tenant: string;

  constructor(opts: WazoHttpOptions) {
    this.#base = new URL(opts.baseUrl);
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#tenant = opts.tenant ?? '';
    this.#agent =
      this.#base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: opts.verifyTls })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** Sends a request; resolves for any HTTP status (callers branch on it), rejects only on network errors/timeouts. */
  raw(req: WazoRequest): Promise<WazoResponse> {
    const url = new URL(this.#base.pathname.replace(/\/$/, '') + req.path, this.#base);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.token) headers['x-auth-token'] = req.token;
    if (req.basic)
      headers.authorization = `Basic ${Buffer.from(`${req.basic.username}:${req.basic.password}`).toString('base64')}`;
    if (req.tenant && this.#tenant) headers['wazo-tenant'] = this.#tenant;
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(JSON.stringify(req.body));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const service = serviceOf(req.path);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<WazoResponse>((resolve, reject) => {
      const r = mod.request(url, { method: req.method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) =>
          reject(new RemoteApiError(service, 0, `response aborted: ${err.message}`, { cause: err })),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          if (text.length > 0) {
            try {
              json = JSON.parse(text);
            } catch {
              // A non-JSON body (proxy error page) is kept as text: callers only read JSON from 2xx answers, checked below.
              json = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      });
      r.setTimeout(this.#timeoutMs, () => {
        r.destroy(
          new RemoteApiError(service, 0, `${req.method} timed out after ${this.#timeoutMs} ms`, {
            remoteCode: 'timeout',
          }),
        );
      });
      r.on('error', (err) =>
        reject(
          err instanceof RemoteApiError
            ? err
            : new RemoteApiError(service, 0, `${req.method} failed: ${err.message}`, { cause: err }),
        ),
      );
      r.end(payload);
    });
  }

  /** Sends a request and validates a 2xx JSON answer against `schema`; non-2xx becomes RemoteApiError. */
  async json<S extends z.ZodType>(req: WazoRequest, schema: S): Promise<z.output<S>> {
    return validated(req, await this.raw(req), schema);
  }

  /**
   * Like {@link json}, with a token from `tokens`: a 401 invalidates it and the request is sent once more with
   * a fresh one (tokens expire or are revoked between renewals).
   */
  async authed<S extends z.ZodType>(
    req: Omit<WazoRequest, 'token'>,
    tokens: { get(): Promise<string>; invalidate(token: string): void },
    schema: S,
  ): Promise<z.output<S>> {
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.get();
      const res = await this.raw({ ...req, token });
      if (res.status === 401 && attempt === 0) {
        tokens.invalidate(token);
        continue;
      }
      return validated({ ...req, token }, res, schema);
    }
  }

  /** Sends a request and expects a 2xx with no body of interest. */
  async ok(req: WazoRequest): Promise<number> {
    const res = await this.raw(req);
    if (res.status < 200 || res.status >= 300) throw toError(req, res);
    return res.status;
  }

  close(): void {
    this.#agent.destroy();
  }
}

function validated<S extends z.ZodType>(req: WazoRequest, res: WazoResponse, schema: S): z.output<S> {
  if (res.status < 200 || res.status >= 300) throw toError(req, res);
  const parsed = schema.safeParse(res.json);
  if (!parsed.success) {
    throw new RemoteApiError(
      serviceOf(req.path),
      res.status,
      `unexpected response shape for ${req.method} ${pathOnly(req.path)}`,
      { remoteCode: 'invalid-response', cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Turns a non-2xx answer into a RemoteApiError carrying Wazo's `error_id`. */
export function toError(req: WazoRequest, res: WazoResponse): RemoteApiError {
  const body = wazoErrorSchema.safeParse(res.json);
  const errorId = body.success ? body.data.error_id : undefined;
  const message = body.success && body.data.message ? body.data.message : `HTTP ${res.status}`;
  return new RemoteApiError(serviceOf(req.path), res.status, `${req.method} ${pathOnly(req.path)}: ${message}`, {
    remoteCode: errorId,
  });
}

/** The path without query (query strings may carry search terms, which are customer data). */
function pathOnly(p: string): string {
  const i = p.indexOf('?');
  return i < 0 ? p : p.slice(0, i);
}
