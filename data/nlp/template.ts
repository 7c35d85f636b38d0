/**
 * Deterministic expansion of the chat templates: alternatives, optional parts, slots, and WhatsApp-style noise
 * (case, punctuation, typos, elongations, emoji, abbreviations). Seeded, so the committed JSONL is reproducible.
 */

/** intent ('' = sentiment-only row), sentiment, template. */
export type TemplateRow = readonly [string, 'positive' | 'neutral' | 'negative', string];

export { createRng } from '../../src/rng.ts';

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/** Expands `{a|b}`, `[x]` (innermost first) and `$SLOT`. */
export function expand(template: string, rng: () => number, slots: Record<string, readonly string[]>): string {
  let s = template;
  for (let guard = 0; guard < 50; guard++) {
    const next = s
      .replace(/\{([^{}[\]]*)\}/, (_m, body: string) => pick(rng, body.split('|')))
      .replace(/\[([^{}[\]]*)\]/, (_m, body: string) => (rng() < 0.5 ? body : ''));
    if (next === s) break;
    s = next;
  }
  s = s.replace(/\$([A-Z]+)/g, (m, name: string) => (slots[name] ? pick(rng, slots[name]) : m));
  return s.replace(/\s+/g, ' ').trim();
}

const EMOJI = {
  positive: ['😊', '🙏', '👍', '😍', '🎉', '❤️', ':)', ':-)', '😁', '🥰', '👌', '💯', ':D'],
  negative: ['😡', '😤', '👎', '😞', '😠', ':(', ':-(', '🤬', '😢', '🙄', '😩', '💩'],
  neutral: ['', '', '', '🤔', '?', '...'],
} as const;

const EN_ABBREV: readonly [RegExp, string][] = [
  [/\byou\b/g, 'u'],
  [/\bplease\b/g, 'pls'],
  [/\bare\b/g, 'r'],
  [/\bthanks\b/g, 'thx'],
  [/\bbecause\b/g, 'coz'],
  [/\bi'm\b/g, 'im'],
  [/\bcan't\b/g, 'cant'],
  [/\bdon't\b/g, 'dont'],
  [/\bdoesn't\b/g, 'doesnt'],
];
const FR_ABBREV: readonly [RegExp, string][] = [
  [/\bs'il te plaît\b/g, 'stp'],
  [/\bs'il vous plaît\b/g, 'svp'],
  [/\bje suis\b/g, 'jsuis'],
  [/\bc'est\b/g, 'c'],
  [/\bil y a\b/g, 'ya'],
  [/\bpourquoi\b/g, 'pk'],
  [/\bbeaucoup\b/g, 'bcp'],
  [/\bmerci\b/g, 'mrc'],
  [/\bquelque\b/g, 'qlq'],
  [/\bj'ai\b/g, 'jai'],
  [/\baujourd'hui\b/g, 'auj'],
];

function typo(word: string, rng: () => number): string {
  if (word.length < 4 || /[$#@\d]/.test(word)) return word;
  const i = 1 + Math.floor(rng() * (word.length - 2));
  const r = rng();
  if (r < 0.4) return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
  if (r < 0.7) return word.slice(0, i) + word.slice(i + 1);
  return word.slice(0, i) + word[i] + word.slice(i);
}

function stripAccents(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC');
}

/** Applies a random mix of chat-writing habits. */
export function noisify(text: string, sentiment: 'positive' | 'neutral' | 'negative', lang: string, rng: () => number): string {
  let s = text;
  for (const [re, to] of lang === 'fr' ? FR_ABBREV : EN_ABBREV) if (rng() < 0.25) s = s.replace(re, to);
  if (lang === 'fr' && rng() < 0.3) s = stripAccents(s);
  if (rng() < 0.2) {
    const words = s.split(' ');
    const k = Math.floor(rng() * words.length);
    words[k] = typo(words[k] ?? '', rng);
    s = words.join(' ');
  }
  if (sentiment !== 'neutral' && rng() < 0.15) {
    s = s.replace(/([aeiouy])(\b|$)/, (_m, v: string) => v.repeat(3 + Math.floor(rng() * 3)));
  }
  const endPunct = rng();
  if (endPunct < 0.15) s += sentiment === 'neutral' ? '?' : '!';
  else if (endPunct < 0.22) s += sentiment === 'negative' ? '!!!' : '.';
  else if (endPunct < 0.27 && sentiment === 'positive') s += ' !!';
  const caseRoll = rng();
  if (caseRoll < 0.25) s = s.charAt(0).toUpperCase() + s.slice(1);
  else if (caseRoll < 0.29 && sentiment === 'negative') s = s.toUpperCase();
  else if (caseRoll < 0.33) s = s.replace(/\b\w/g, (c) => (rng() < 0.3 ? c.toUpperCase() : c));
  if (rng() < 0.25) {
    const e = pick(rng, EMOJI[sentiment]);
    if (e) s += (rng() < 0.7 ? ' ' : '') + e + (rng() < 0.2 ? e : '');
  }
  return s.trim();
}
