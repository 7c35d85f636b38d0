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
