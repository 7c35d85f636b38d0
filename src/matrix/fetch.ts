/**
 * The `fetchFn` we give matrix-js-sdk's HTTP layer: node:http(s) with keep-alive agents, answering with the
 * small part of the WHATWG `Response` the SDK reads (`ok`, `status`, `url`, `headers`, `text()`, `json()`).
 * Node's built-in fetch (undici) builds a Request, web streams and a Response per call; on the bridge's hot
 * path (one `PUT /send` per bridged message) that was a quarter of the CPU. Same wire behaviour otherwise:
 * one pooled connection per request in flight, TLS verified, timeouts through the caller's `AbortSignal`.
 * Redirects are not followed: the Client-Server API does not use them, and an unexpected 3xx surfaces as an
 * HTTP error naming its status. No compression is negotiated (no `Accept-Encoding`), so servers and proxies
 * answer uncompressed JSON.
 */
import http from 'node:http';
import https from 'node:https';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | null;
  signal?: AbortSignal | null;
  /** false: a fresh connection, closed after the answer (as clients without a session pool do). */
  keepAlive?: boolean;
}

class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly #raw: http.IncomingHttpHeaders;
  readonly #body: Buffer;
  #headers: Headers | undefined;

  constructor(url: string, res: http.IncomingMessage, body: Buffer) {
    this.url = url;
    this.status = res.statusCode ?? 0;
    this.statusText = res.statusMessage ?? '';
    this.#raw = res.headers;
    this.#body = body;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get headers(): Headers {
    if (!this.#headers) {
      const h = new Headers();
      for (const [k, v] of Object.entries(this.#raw)) {
        if (Array.isArray(v)) for (const x of v) h.append(k, x);
        else if (v !== undefined) h.set(k, v);
      }
      this.#headers = h;
    }
    return this.#headers;
  }

  async text(): Promise<string> {
    return this.#body.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#body.toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#body.buffer.slice(this.#body.byteOffset, this.#body.byteOffset + this.#body.byteLength) as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([new Uint8Array(this.#body)], { type: this.#raw['content-type'] ?? '' });
  }
}

/** A `fetch` for JSON APIs over node:http(s) keep-alive agents (see the module comment). */
export function nodeFetch(input: string | URL, init: FetchInit = {}): Promise<NodeResponse> {
  const url = typeof input === 'string' ? new URL(input) : input;
  const pooled = agents[url.protocol as keyof typeof agents];
  if (!pooled) return Promise.reject(new TypeError(`unsupported URL scheme ${url.protocol}`));
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const headers: Record<string, string | number> = { ...init.headers };
  const body = init.body ?? undefined;
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<NodeResponse>((resolve, reject) => {
    const agent = init.keepAlive === false ? false : pooled;
    const req = lib.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(new NodeResponse(url.href, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      });
      res.on('error', fail);
    });
    function fail(err: unknown) {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort() {
      req.destroy();
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * Runs `run` with a signal that aborts (TimeoutError, as `AbortSignal.timeout`) after `ms`, and clears its
 * timer as soon as `run` settles. `AbortSignal.timeout` keeps its timer (and a WeakRef) until it fires: at
 * 2,000 requests/s with a 30 s timeout that is 60,000 live timers for the GC to trace.
 */
export async function withTimeout<T>(ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(new DOMException('The operation timed out.', 'TimeoutError')), ms);
  timer.unref();
  try {
    return await run(c.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** `nodeFetch` typed as the global `fetch`, for matrix-js-sdk's `fetchFn` option. */
export const sdkFetch = nodeFetch as unknown as typeof globalThis.fetch;
