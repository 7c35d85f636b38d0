import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { htmlToText } from './html-to-text.ts';
import { editToWazo, matrixToWazo, reactionToWazo } from './to-wazo.ts';

const ctx = { senderName: 'Ada Lovelace' };

describe('htmlToText (formatted_body → Markdown-ish)', () => {
  const cases: [string, string][] = [
    ['<b>bold</b> and <i>it</i> and <em>em</em>', '**bold** and *it* and *em*'],
    ['run <code>npm test</code>', 'run `npm test`'],
    ['<pre><code>x &lt; 1\n  y</code></pre>', '```\nx < 1\n  y\n```'],
    ['<a href="https://a.b/c">site</a> <a href="https://a.b">https://a.b</a>', '[site](https://a.b/c) https://a.b'],
    ['<a href="javascript:alert(1)">bad</a>', 'bad'],
    ['hi <a href="https://matrix.to/#/@bob:hs">Bob</a>', 'hi Bob'],
    ['<ul><li>one</li><li>two</li></ul>', '- one\n- two'],
    ['<ol start="3"><li>x</li><li>y</li></ol>', '3. x\n4. y'],
    ['<blockquote>quoted</blockquote><p>answer</p>', '> quoted\n\nanswer'],
    ['<mx-reply><blockquote>old</blockquote></mx-reply>new', 'new'],
    ['a<br>b', 'a\nb'],
    ['<del>gone</del>', '~~gone~~'],
    ['1 &lt; 2 &amp;&amp; &#x1F600;', '1 < 2 && 😀'],
    ['<script>alert(1)</script>ok', 'ok'],
  ];
  for (const [html, text] of cases) it(html, () => assert.equal(htmlToText(html), text));
});

describe('matrixToWazo', () => {
  it('text: plain body', () => assert.equal(matrixToWazo({ kind: 'text', text: 'hello' }, ctx), 'hello'));
  it('notice: plain body', () => assert.equal(matrixToWazo({ kind: 'notice', text: 'bot says' }, ctx), 'bot says'));
  it('HTML preferred over body', () =>
    assert.equal(
      matrixToWazo({ kind: 'text', text: 'hello bold', html: 'hello <strong>bold</strong>' }, ctx),
      'hello **bold**',
    ));
  it('emote', () => assert.equal(matrixToWazo({ kind: 'emote', text: 'waves' }, ctx), '* Ada Lovelace waves'));
  it('reply: quoted first line', () =>
    assert.equal(
      matrixToWazo({ kind: 'text', text: 'yes' }, { ...ctx, replyQuote: 'Can we meet?\nTomorrow', replyAuthor: 'Bob' }),
      '> Bob: Can we meet?\nyes',
    ));
  it('reply fallback lines in body are removed', () =>
    assert.equal(matrixToWazo({ kind: 'text', text: '> <@bob:hs> Can we meet?\n\nyes' }, ctx), 'yes'));
  it('edit: * corrected', () => assert.equal(editToWazo({ kind: 'text', text: 'corrected' }, ctx), '* corrected'));
  it('reaction: short line', () =>
    assert.equal(reactionToWazo('Ada', '👍', 'Ship it?'), 'Ada reacted 👍 to "Ship it?"'));
  it('media: link through the public media URL', () =>
    assert.equal(
      matrixToWazo(
        {
          kind: 'text',
          text: 'cat.png',
          media: { kind: 'image', name: 'cat.png', url: 'https://media.example/cat.png' },
        },
        ctx,
      ),
      'cat.png: https://media.example/cat.png',
    ));
  it('media with caption', () =>
    assert.equal(
      matrixToWazo({ kind: 'text', text: 'look', media: { kind: 'file', name: 'a.pdf', url: 'https://m/a.pdf' } }, ctx),
      'look\na.pdf: https://m/a.pdf',
    ));
  it('media without public URL says so', () =>
    assert.match(
      matrixToWazo({ kind: 'text', text: 'a.pdf', media: { kind: 'file', name: 'a.pdf' } }, ctx) ?? '',
      /no public media URL/,
    ));
  it('empty text → nothing to send', () => assert.equal(matrixToWazo({ kind: 'text', text: '   ' }, ctx), undefined));
});
