import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { toRemoteError } from './api.ts';
import { createHttp, type IRequestOpts, MatrixError, Method } from './http.ts';
import { nodeFetch } from './fetch.ts';

describe('node:http fetch for the SDK', () => {
  let server: Server;
  let base: string;
  let connections = 0;
  const seen: { method: string; url: string; auth?: string; body: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        if (req.url!.includes('/limited')) {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
          res.end(JSON.stringify({ errcode: 'M_LIMIT_EXCEEDED', error: 'slow down' }));
        } else if (req.url!.includes('/hang')) {
          // never answers
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ event_id: '$e', echo: body ? JSON.parse(body) : null }));
        }
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends JSON with the token, parses the answer, and reuses one connection', async () => {
    const http = createHttp(base, 'secret-token');
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const r = await http.authedRequest<{ event_id: string; echo: unknown }>(
        Method.Put,
        `/rooms/!r/send/m.room.message/t${i}`,
        undefined,
        {
          body: 'hi',
        },
      );
      assert.deepEqual(r, { event_id: '$e', echo: { body: 'hi' } });
    }
    assert.equal(connections - before, 1, 'keep-alive: one connection for three sequential calls');
    const last = seen.at(-1)!;
    assert.equal(last.method, 'PUT');
    assert.equal(last.url, '/_matrix/client/v3/rooms/!r/send/m.room.message/t2');
    assert.equal(last.auth, 'Bearer secret-token');
  });

  it('turns an error answer into a MatrixError with its headers (Retry-After)', async () => {
    const http = createHttp(base, 't');
    const err = await http.authedRequest(Method.Get, '/limited').then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MatrixError);
    assert.equal(err.httpStatus, 429);
    assert.equal(err.errcode, 'M_LIMIT_EXCEEDED');
    assert.equal(err.getRetryAfterMs(), 3000);
  });

  it('gives up at the caller’s timeout, as an abort our retry policy treats as a network error', async () => {
    const http = createHttp(base, 't');
    const err = await http
      .authedRequest(Method.Get, '/hang', undefined, undefined, {
        abortSignal: AbortSignal.timeout(100),
      } as unknown as IRequestOpts)
      .then(
        () => assert.fail('should time out'),
        (e: unknown) => e,
      );
    assert.equal((err as Error).name, 'AbortError');
    const remote = toRemoteError('GET /hang', err);
    assert.equal(remote.retryable, true);
  });

  it('refuses schemes other than http and https', async () => {
    await assert.rejects(nodeFetch('ftp://127.0.0.1/x'), /unsupported URL scheme ftp:/);
  });
});
