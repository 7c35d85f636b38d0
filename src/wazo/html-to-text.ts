/**
 * Matrix `formatted_body` (the spec's HTML subset) → Markdown-ish plain text for chatd, whose clients render
 * Markdown. A small tolerant tokenizer: unknown tags keep their text, `<mx-reply>` is dropped, links keep their
 * URL only for http/https/mailto, mentions (matrix.to links) become the display text.
 */
interface Node {
  tag: string;
  attrs: Record<string, string>;
  children: (Node | string)[];
}

const VOID = new Set(['br', 'hr', 'img']);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+|#39);/g, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

function parse(html: string): Node {
  const root: Node = { tag: '#root', attrs: {}, children: [] };
  const stack: Node[] = [root];
  const re =
    /<!--[\s\S]*?-->|<\/?([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>|([^<]+)|</g;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    const top = stack[stack.length - 1];
    if (m[0].startsWith('<!--')) continue;
    if (m[3] !== undefined || m[0] === '<') {
      top.children.push(decodeEntities(m[3] ?? '<'));
      continue;
    }
    const tag = m[1].toLowerCase();
    if (m[0].startsWith('</')) {
      const i = stack.map((n) => n.tag).lastIndexOf(tag);
      if (i > 0) stack.length = i;
      continue;
    }
    const attrs: Record<string, string> = {};
    const attrRe = /([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
    for (let a = attrRe.exec(m[2] ?? ''); a !== null; a = attrRe.exec(m[2] ?? '')) {
      attrs[a[1].toLowerCase()] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
    }
    const node: Node = { tag, attrs, children: [] };
    top.children.push(node);
    if (!VOID.has(tag) && !m[0].endsWith('/>')) stack.push(node);
  }
  return root;
}

const SAFE = /^(https?:|mailto:)/i;

function inline(nodes: (Node | string)[], ctx: { pre: boolean }): string {
  return nodes.map((n) => render(n, ctx)).join('');
}

function render(n: Node | string, ctx: { pre: boolean }): string {
  if (typeof n === 'string') return ctx.pre ? n : n.replace(/\s+/g, ' ');
  const inner = () => inline(n.children, ctx);
  switch (n.tag) {
    case 'mx-reply':
    case 'script':
    case 'style':
      return '';
    case 'br':
      return '\n';
    case 'hr':
      return '\n---\n';
    case 'b':
    case 'strong':
      return wrap('**', inner());
    case 'i':
    case 'em':
      return wrap('*', inner());
    case 'del':
    case 's':
    case 'strike':
      return wrap('~~', inner());
    case 'code':
      return ctx.pre ? inline(n.children, ctx) : wrap('`', inline(n.children, { pre: true }));
    case 'pre':
      return `\n\`\`\`\n${inline(n.children, { pre: true }).replace(/\n$/, '')}\n\`\`\`\n`;
    case 'a': {
      const href = n.attrs.href ?? '';
      const text = inner().trim();
      if (/^https:\/\/matrix\.to\/#\//i.test(href)) return text;
      if (!SAFE.test(href)) return text;
      if (text === '' || text === href || `mailto:${text}` === href) return href;
      return `[${text}](${href})`;
    }
    case 'img': {
      const alt = n.attrs.alt ?? n.attrs.title ?? '';
      return alt;
    }
    case 'p':
    case 'div':
      return `\n${inner().trim()}\n\n`;
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6':
      return `\n${'#'.repeat(Number(n.tag[1]))} ${inner().trim()}\n\n`;
    case 'blockquote': {
      const text = tidy(inner());
      return `\n${text
        .split('\n')
        .map((l) => (l ? `> ${l}` : '>'))
        .join('\n')}\n\n`;
    }
    case 'ul':
    case 'ol': {
      const start = Number(n.attrs.start ?? '1') || 1;
      const items = n.children.filter((c): c is Node => typeof c !== 'string' && c.tag === 'li');
      const lines = items.map((li, i) => {
        const marker = n.tag === 'ol' ? `${start + i}.` : '-';
        const body = tidy(inline(li.children, ctx)).split('\n');
        return [`${marker} ${body[0]}`, ...body.slice(1).map((l) => `   ${l}`)].join('\n');
      });
      return `\n${lines.join('\n')}\n\n`;
    }
    default:
      return inner();
  }
}

function wrap(mark: string, s: string): string {
  const t = s.trim();
  if (t === '') return s;
  const lead = s.slice(0, s.indexOf(t[0]));
  const trail = s.slice(s.lastIndexOf(t[t.length - 1]) + 1);
  return `${lead}${mark}${t}${mark}${trail}`;
}

/** Collapses blank-line runs and trims. */
function tidy(s: string): string {
  return s
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** HTML → Markdown-ish plain text. */
export function htmlToText(html: string): string {
  return tidy(inline(parse(html).children, { pre: false }));
}
