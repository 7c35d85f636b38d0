import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectMediaUrl } from './media.ts';

describe('detectMediaUrl', () => {
  it('a lone link to a known file type is media', () => {
    assert.deepEqual(detectMediaUrl(' https://files.example.org/u/cat%20photo.PNG '), {
      url: 'https://files.example.org/u/cat%20photo.PNG',
      name: 'cat photo.PNG',
      kind: 'image',
      mime: 'image/png',
    });
    assert.equal(detectMediaUrl('https://e.org/report.pdf')?.kind, 'file');
  });
  it('text around the link, unknown types and other schemes stay text', () => {
    assert.equal(detectMediaUrl('look https://e.org/cat.png'), undefined);
    assert.equal(detectMediaUrl('https://e.org/page'), undefined);
    assert.equal(detectMediaUrl('ftp://e.org/cat.png'), undefined);
    assert.equal(detectMediaUrl('javascript:alert(1)//x.png'), undefined);
  });
});

describe('downloadMedia', () => {
  it('refuses private addresses unless the host is allowed, and never follows redirects', async () => {
    const { createServer } = await import('node:http');
    const { downloadMedia, isPrivateAddress } = await import('./media.ts');
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
    ])
      assert.equal(isPrivateAddress(ip), true, ip);
    for (const ip of ['93.184.216.34', '8.8.8.8', '2001:4860:4860::8888'])
      assert.equal(isPrivateAddress(ip), false, ip);
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      if (req.url === '/moved.png') {
        res.writeHead(302, { location: '/cat.png' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.from([137, 80, 78, 71]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const opts = { maxBytes: 1024, timeoutMs: 2000 };
      assert.equal(await downloadMedia(`http://${host}/cat.png`, opts), undefined, 'loopback refused');
      // A name is checked on the addresses it resolves to, by the connection's own lookup.
      const port = (server.address() as { port: number }).port;
      assert.equal(await downloadMedia(`http://localhost:${port}/cat.png`, opts), undefined, 'localhost refused');
      assert.equal(hits, 0, 'no request made');
      const got = await downloadMedia(`http://${host}/cat.png`, { ...opts, allowedHosts: [host] });
      assert.equal(got?.mime, 'image/png');
      assert.equal(got?.bytes.byteLength, 4);
      assert.equal(await downloadMedia(`http://${host}/moved.png`, { ...opts, allowedHosts: [host] }), undefined);
      assert.equal(
        await downloadMedia(`http://${host}/cat.png`, { ...opts, maxBytes: 2, allowedHosts: [host] }),
        undefined,
      );
    } finally {
      server.close();
    }
  });
});

describe('downloadMedia over HTTPS with a self-signed certificate (test/fixtures/tls, test-only)', () => {
  it('skips verification only for the hosts named in unverifiedTlsHosts, and still follows no redirect', async () => {
    const { readFileSync } = await import('node:fs');
    const { createServer } = await import('node:https');
    const { downloadMedia } = await import('./media.ts');
    const tls = {
      key: readFileSync(new URL('../../test/fixtures/tls/key.pem', import.meta.url)),
      cert: readFileSync(new URL('../../test/fixtures/tls/cert.pem', import.meta.url)),
    };
    let hits = 0;
    const server = createServer(tls, (req, res) => {
      hits++;
      if (req.url === '/moved.png') res.writeHead(302, { location: '/cat.png' }).end();
      else res.writeHead(200, { 'content-type': 'image/png; charset=binary' }).end(Buffer.from([137, 80, 78, 71]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const opts = { maxBytes: 1024, timeoutMs: 2000, allowedHosts: [host] };
    try {
      assert.equal(await downloadMedia(`https://${host}/cat.png`, opts), undefined, 'verified: refused');
      assert.equal(
        await downloadMedia(`https://${host}/cat.png`, { ...opts, unverifiedTlsHosts: ['127.0.0.1:1'] }),
        undefined,
        'another host’s exemption does not apply',
      );
      assert.equal(hits, 0, 'no request got past the TLS handshake');
      const got = await downloadMedia(`https://${host}/cat.png`, { ...opts, unverifiedTlsHosts: [host] });
      assert.equal(got?.mime, 'image/png');
      assert.deepEqual(Buffer.from(got!.bytes), Buffer.from([137, 80, 78, 71]));
      assert.equal(
        await downloadMedia(`https://${host}/moved.png`, { ...opts, unverifiedTlsHosts: [host] }),
        undefined,
        'redirect not followed',
      );
      assert.equal(hits, 2);
      assert.equal(
        await downloadMedia(`https://${host}/cat.png`, { ...opts, allowedHosts: [], unverifiedTlsHosts: [host] }),
        undefined,
        'the private-address guard still applies',
      );
      assert.equal(hits, 2);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('guardedLookup', () => {
  const resolveTo =
    (...addresses: { address: string; family: number }[]) =>
    (_host: string, cb: (err: Error | null, a: { address: string; family: number }[]) => void) =>
      cb(null, addresses);
  const run = async (
    lookupFn: ReturnType<typeof import('./media.ts').guardedLookup>,
    options: { all?: boolean; family?: number },
  ) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((r) =>
      lookupFn('files.example', options as never, (err, address, family) => r({ err, address, family })),
    );

  it('refuses a name with any private address, unless private hosts are allowed; answers in both lookup forms', async () => {
    const { guardedLookup } = await import('./media.ts');
    const mixed = resolveTo({ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 });
    const refused = await run(guardedLookup(false, mixed), {});
    assert.match(String(refused.err?.message), /private address/);
    assert.equal(refused.err?.code, 'EACCES');
    const allowed = await run(guardedLookup(true, mixed), {});
    assert.equal(allowed.err, null);
    assert.equal(allowed.address, '93.184.216.34');
    assert.equal(allowed.family, 4);
    const dual = resolveTo({ address: '2001:db8::1', family: 6 }, { address: '93.184.216.34', family: 4 });
    const all = await run(guardedLookup(false, dual), { all: true });
    assert.deepEqual(all.address, [
      { address: '2001:db8::1', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ]);
    assert.equal((await run(guardedLookup(false, dual), { family: 4 })).address, '93.184.216.34');
    const none = await run(guardedLookup(false, resolveTo()), {});
    assert.equal(none.err?.code, 'ENOTFOUND');
    const failing = await run(
      guardedLookup(false, (_h, cb) =>
        cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), []),
      ),
      {},
    );
    assert.equal(failing.err?.code, 'ENOTFOUND');
  });
});
