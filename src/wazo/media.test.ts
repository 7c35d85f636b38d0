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
