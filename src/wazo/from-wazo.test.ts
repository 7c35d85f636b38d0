import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMarkdown, wazoToMatrix } from './from-wazo.ts';

const md = createMarkdown();

// Inputs are chatd `content` values as Wazo clients send them (Markdown typed by users, pasted URLs, attacks).
const cases: { name: string; in: string; html: string | undefined }[] = [
  { name: 'plain text stays plain', in: 'Hello, can you call me back?', html: undefined },
  { name: 'multi-line plain text stays plain', in: 'line one\nline two', html: undefined },
  { name: 'ampersands and quotes stay plain', in: 'R&D says "ok" <3', html: undefined },
  { name: 'bold', in: 'Hello **team**', html: 'Hello <strong>team</strong>' },
  { name: 'italics and code', in: '*really* run `npm test`', html: '<em>really</em> run <code>npm test</code>' },
  { name: 'list', in: '- a\n- b', html: '<ul>\n<li>a</li>\n<li>b</li>\n</ul>' },
  {
    name: 'bare URL becomes a link',
    in: 'see https://example.com/x.png',
    html: 'see <a href="https://example.com/x.png">https://example.com/x.png</a>',
  },
  { name: 'mailto link kept', in: '[mail](mailto:a@b.c)', html: '<a href="mailto:a@b.c">mail</a>' },
  {
    name: 'image becomes a link, never an <img>',
    in: '![cat](https://e.org/cat.gif)',
    html: '<a href="https://e.org/cat.gif">cat</a>',
  },
];

const xss: string[] = [
  '<script>alert(1)</script>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '<img src=x onerror=alert(1)>',
  '<a href="https://e.org" onclick="x()">hi</a> **b**',
  '[x](data:text/html;base64,PHNjcmlwdD4=)',
  '![x](javascript:alert(1))',
  '<iframe src="https://evil"></iframe>',
  '[a](vbscript:msgbox(1))',
];

describe('wazoToMatrix', () => {
  for (const c of cases) {
    it(c.name, () => {
      const out = wazoToMatrix(c.in, md);
      assert.equal(out.msgtype, 'm.text');
      assert.equal(out.body, c.in);
      assert.equal(out.formatted_body, c.html);
      assert.equal(out.format, c.html === undefined ? undefined : 'org.matrix.custom.html');
    });
  }
  for (const payload of xss) {
    it(`neutralises ${payload}`, () => {
      const out = wazoToMatrix(payload, md);
      assert.equal(out.body, payload, 'body keeps the raw text');
      const html = out.formatted_body ?? '';
      assert.doesNotMatch(html, /<(script|img|iframe)\b/i);
      assert.doesNotMatch(html, /<[^>]*\son\w+=/i, 'no event-handler attribute inside a tag');
      assert.doesNotMatch(html, /href="(javascript|data|vbscript):/i);
    });
  }
});
