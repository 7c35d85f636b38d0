/**
 * Wazo → Matrix message content. Pure: takes the chatd message text and a markdown-it instance, returns the
 * Matrix `content`. chatd stores Markdown verbatim and Wazo clients render it, so we render it too, with raw
 * HTML off and links limited to http, https and mailto, and only add `formatted_body` when Markdown changed
 * something.
 */
import MarkdownItCtor from 'markdown-it';

type MarkdownIt = InstanceType<typeof MarkdownItCtor>;
export type { MarkdownIt };

export interface MatrixTextContent {
  msgtype: 'm.text';
  body: string;
  format?: 'org.matrix.custom.html';
  formatted_body?: string;
}

const SAFE_LINK = /^(https?:|mailto:)/i;

/** The markdown-it instance the connector uses: no raw HTML, safe links only, bare URLs linkified. */
export function createMarkdown(): MarkdownIt {
  const md = new MarkdownItCtor('default', { html: false, linkify: true, breaks: true, typographer: false });
  md.validateLink = (url: string) => SAFE_LINK.test(url.trim());
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
  // Images would make Matrix clients fetch remote URLs (tracking pixels): render them as plain links instead.
  md.renderer.rules.image = (tokens, idx) => {
    const t = tokens[idx];
    const src = String(t.attrGet('src') ?? '');
    const alt = md.utils.escapeHtml(String(t.content || src));
    return SAFE_LINK.test(src) ? `<a href="${md.utils.escapeHtml(src)}">${alt}</a>` : alt;
  };
  return md;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Converts chatd `content` into Matrix `m.text` content. */
export function wazoToMatrix(content: string, md: MarkdownIt): MatrixTextContent {
  const out: MatrixTextContent = { msgtype: 'm.text', body: content };
  if (content.trim() === '') return out;
  const html = md.render(content).trim();
  const plain = `<p>${escapeHtml(content.trim()).replace(/\n/g, '<br>\n')}</p>`;
  if (html === plain || html === plain.replace(/&quot;/g, '"')) return out;
  out.format = 'org.matrix.custom.html';
  out.formatted_body = stripSingleParagraph(html);
  return out;
}

/** `<p>x</p>` → `x` for one-paragraph messages, as Matrix clients send them. */
function stripSingleParagraph(html: string): string {
  const m = /^<p>([\s\S]*)<\/p>$/.exec(html);
  if (m && !m[1].includes('<p>')) return m[1];
  return html;
}
