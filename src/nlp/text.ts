/**
 * Chat text normalisation and tokenisation: pure, no I/O. Masks personal data and identifiers, maps emoji and
 * emoticons to sentiment tokens, collapses elongations, drops Matrix reply fallbacks and quoted lines, and marks
 * the tokens inside a negation scope.
 */

/** Placeholder tokens produced by {@link normaliseText}: plain letters, so they survive tokenisation. */
export const MASKS = {
  url: 'xurl',
  email: 'xemail',
  phone: 'xphone',
  order: 'xorder',
  money: 'xmoney',
  number: 'xnum',
  emojiPositive: 'xemopos',
  emojiNegative: 'xemoneg',
  emoji: 'xemoji',
  elongated: 'xelong',
} as const;

const MASK_SET: ReadonlySet<string> = new Set(Object.values(MASKS));

export function isMask(token: string): boolean {
  return MASK_SET.has(token);
}

const POSITIVE_EMOJI = '😀😃😄😁😆😊🙂😉😍🥰😘😎🤩🥳👍👌👏🙌🙏💪🎉✨💯❤💕💖💗💙💚💛💜🧡😻✅🤗😇☺😋🤝🌟⭐🔥';
const NEGATIVE_EMOJI = '😡😠🤬😤👎😞😟😢😭😩😫😖😣☹🙁😒🙄💩😱😰😥😓🤮🤢💔❌😑😐😕😔😿🖕⚠';

const EMOJI_POLARITY: ReadonlyMap<string, string> = new Map([
  ...[...POSITIVE_EMOJI].map((e): [string, string] => [e, MASKS.emojiPositive]),
  ...[...NEGATIVE_EMOJI].map((e): [string, string] => [e, MASKS.emojiNegative]),
]);

const EMOTICONS: readonly [RegExp, string][] = [
  [/(^|\s)(?:[:;=8]-?[)D\]pP*]+|\^\^|\^_\^|<3+|xD+)(?=\s|$|[.,!?])/g, ` ${MASKS.emojiPositive} `],
  [/(^|\s)(?:[:;=]'?-?[([/\\|]+|>:\(|D:|<\/3)(?=\s|$|[.,!?])/g, ` ${MASKS.emojiNegative} `],
];

const RE_QUOTED = /^>.*$/gm;
const RE_HAS_URL = /https?:|www\./i;
const RE_HAS_DIGIT = /\d/;
const RE_HAS_EMOTICON = /[:;=8^<]|xD/;
// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL on purpose
const RE_HAS_NON_ASCII = /[^\x00-\x7f]/;
const RE_URL = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
const RE_EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const RE_MONEY = /(?:[€$£]\s?\d+(?:[.,]\d+)?|\b\d+(?:[.,]\d+)?\s?(?:€|\$|£|eur\b|euros?\b|dollars?\b|pounds?\b))/gi;
const RE_ORDER = /(?:#\s?\d{3,}|\bn°\s?\d+|\b[a-z]{1,4}-\d{3,}\b|\b[a-z]{1,3}\d{4,}\b|\b\d{5}\d*\b)/gi;
const RE_PHONE = /\+?\d[\d\s().-]{6,}\d/g;
const RE_NUMBER = /\b\d+(?:[.,]\d+)?(?:st|nd|rd|th|e|er|h|go|gb)?\b/gi;
const RE_ELONGATION = /(\p{L})\1{2,}/gu;
const RE_PICTO = /\p{Extended_Pictographic}/gu;
const RE_TOKEN = /[\p{L}\p{N}_]+|[.,;:!?]+/gu;

/** Removes Matrix reply fallbacks (`> <@user:hs> ...` lines) and any other quoted line. */
export function stripQuotes(text: string): string {
  return text.includes('>') ? text.replace(RE_QUOTED, ' ') : text;
}

function maskPhones(s: string): string {
  return s.replace(RE_PHONE, (m) => (m.replace(/\D/g, '').length >= 8 ? ` ${MASKS.phone} ` : m));
}

/**
 * Lower-cased, NFC text with quotes removed, identifiers masked, emoji mapped and elongations collapsed. English
 * contractions are expanded so `can't` yields a `not` token; French elisions are split (`j'ai` → `j ai`).
 */
export function normaliseText(raw: string): string {
  let s = stripQuotes(raw).normalize('NFC');
  // Cheap guards first: most chat lines have no URL, address, digit or emoticon, and each pass costs.
  if (RE_HAS_URL.test(s)) s = s.replace(RE_URL, ` ${MASKS.url} `);
  if (s.includes('@')) s = s.replace(RE_EMAIL, ` ${MASKS.email} `);
  const digits = RE_HAS_DIGIT.test(s);
  if (digits) {
    s = maskPhones(s);
    s = s.replace(RE_MONEY, ` ${MASKS.money} `).replace(RE_ORDER, ` ${MASKS.order} `);
  }
  if (RE_HAS_EMOTICON.test(s)) for (const [re, to] of EMOTICONS) s = s.replace(re, `$1${to}`);
  if (digits) s = s.replace(RE_NUMBER, ` ${MASKS.number} `);
  if (RE_HAS_NON_ASCII.test(s)) s = s.replace(RE_PICTO, (e) => ` ${EMOJI_POLARITY.get(e) ?? MASKS.emoji} `);
  s = s.toLowerCase().replace(/[’‘`´]/g, "'");
  s = s
    .replace(/\bcan't\b|\bcannot\b/g, 'can not')
    .replace(/\bwon't\b/g, 'will not')
    .replace(/n't\b/g, ' not')
    .replace(/\b(cant|dont|doesnt|didnt|isnt|wasnt|wont|aint|couldnt|wouldnt|shouldnt|havent|hasnt)\b/g, (w) =>
      w === 'cant' ? 'can not' : w === 'wont' ? 'will not' : `${w.slice(0, -2)} not`,
    )
    .replace(/\b([ljdmtscn]|qu|jusqu|lorsqu|puisqu)'/g, '$1 ')
    .replace(/'/g, ' ');
  if (RE_ELONGATION.test(s)) s = `${s.replace(RE_ELONGATION, '$1$1')} ${MASKS.elongated}`;
  return s;
}

const NEGATORS: ReadonlySet<string> = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'nobody',
  'none',
  'neither',
  'nor',
  'without',
  'hardly',
  'cannot',
  'ne',
  'n',
  'pas',
  'jamais',
  'rien',
  'aucun',
  'aucune',
  'ni',
  'sans',
  'guere',
  'nullement',
]);
const SCOPE_BREAKERS: ReadonlySet<string> = new Set(['but', 'however', 'mais', 'cependant', 'pourtant', 'and', 'et']);
const NEGATION_SCOPE = 3;

export interface Tokens {
  /** Word tokens, lower-cased, accents removed (placeholders kept as is). */
  words: string[];
  /** Same length as `words`: true inside a negation scope ("not good", "pas terrible", "never again"). */
  negated: boolean[];
  /** Count of `!` and `?` seen. */
  exclamations: number;
  questions: number;
}

const accentCache = new Map<string, string>();
function stripAccents(w: string): string {
  let r = accentCache.get(w);
  if (r === undefined) {
    r = w.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    if (accentCache.size < 200_000) accentCache.set(w, r);
  }
  return r;
}

/** Splits normalised text into words and marks negation scopes; punctuation ends a scope. */
export function tokenize(normalised: string): Tokens {
  const words: string[] = [];
  const negated: boolean[] = [];
  let exclamations = 0;
  let questions = 0;
  let scope = 0;
  for (const m of normalised.matchAll(RE_TOKEN)) {
    const t = m[0];
    const c = t.charCodeAt(0);
    if (c === 33 || c === 63 || c === 46 || c === 44 || c === 59 || c === 58) {
      for (const ch of t) {
        if (ch === '!') exclamations++;
        else if (ch === '?') questions++;
      }
      scope = 0;
      continue;
    }
    const w = RE_HAS_NON_ASCII.test(t) ? stripAccents(t) : t;
    if (NEGATORS.has(w)) {
      scope = NEGATION_SCOPE;
      words.push(w);
      negated.push(false);
      continue;
    }
    if (SCOPE_BREAKERS.has(w)) scope = 0;
    words.push(w);
    negated.push(scope > 0);
    if (scope > 0) scope--;
  }
  return { words, negated, exclamations, questions };
}
