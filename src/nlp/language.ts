/**
 * Language detection for chat messages. A small character n-gram model trained on our en/fr data decides
 * between the languages we have models for (fast and good on short texts); franc-min is asked, as best effort,
 * only when a longer text contains none of their stop words. Very short or unsure texts fall back to the room's
 * dominant language.
 */
import { francAll } from 'franc-min';
import type { LinearTextModel } from './model.ts';
import { isMask, type Tokens } from './text.ts';

/** franc-min's ISO 639-3 codes → ISO 639-1 (the ones it knows that have a two-letter code). */
const ISO3_TO_1: Readonly<Record<string, string>> = {
  eng: 'en',
  fra: 'fr',
  deu: 'de',
  spa: 'es',
  ita: 'it',
  por: 'pt',
  nld: 'nl',
  pol: 'pl',
  rus: 'ru',
  ukr: 'uk',
  tur: 'tr',
  arb: 'ar',
  cmn: 'zh',
  jpn: 'ja',
  kor: 'ko',
  hin: 'hi',
  ben: 'bn',
  vie: 'vi',
  ind: 'id',
  zlm: 'ms',
  tha: 'th',
  ron: 'ro',
  hun: 'hu',
  ces: 'cs',
  slk: 'sk',
  ell: 'el',
  swe: 'sv',
  dan: 'da',
  nob: 'nb',
  fin: 'fi',
  bul: 'bg',
  srp: 'sr',
  hrv: 'hr',
  bos: 'bs',
  slv: 'sl',
  lit: 'lt',
  lav: 'lv',
  est: 'et',
  heb: 'he',
  pes: 'fa',
  urd: 'ur',
  tam: 'ta',
  tel: 'te',
  mar: 'mr',
  guj: 'gu',
  kan: 'kn',
  mal: 'ml',
  pan: 'pa',
  swh: 'sw',
  hau: 'ha',
  yor: 'yo',
  ibo: 'ig',
  amh: 'am',
  som: 'so',
  zul: 'zu',
  xho: 'xh',
  afr: 'af',
  cat: 'ca',
  glg: 'gl',
  eus: 'eu',
  bel: 'be',
  kaz: 'kk',
  uzb: 'uz',
  aze: 'az',
  tgl: 'tl',
  ceb: 'ceb',
  mya: 'my',
  khm: 'km',
  nep: 'ne',
  sin: 'si',
};

/** Minimum letters before franc-min is consulted; below that it is little better than a coin toss. */
const FRANC_MIN_LETTERS = 20;
/** Above this the n-gram model is trusted over franc-min. */
const VERY_SURE = 0.97;
/** franc-min's relative score of our best language must stay below this for another language to win. */
const FRANC_MARGIN = 0.9;
/** Below this probability the n-gram model's answer yields to the room's language. */
const CONFIDENT = 0.75;

export interface LanguageResult {
  /** ISO 639-1 code. */
  language: string;
  /** True when `language` is outside the configured languages (the English-first models are used as best effort). */
  unsupported: boolean;
}

export class LanguageDetector {
  private readonly model: LinearTextModel;
  private readonly stopwords: ReadonlySet<string>;
  private readonly configured: ReadonlySet<string>;
  /** Stop words found in exactly one of the model's languages: enough of them decide without the model. */
  private readonly marker: ReadonlyMap<string, string>;

  /**
   * @param model en/fr character n-gram model (models/language.json).
   * @param stopwords stop words of the model's languages; a text containing none may be another language.
   * @param configured `[nlp] languages`.
   */
  constructor(
    model: LinearTextModel,
    stopwords: ReadonlyMap<string, ReadonlySet<string>>,
    configured: readonly string[],
  ) {
    this.model = model;
    this.stopwords = new Set([...stopwords.values()].flatMap((s) => [...s]));
    this.configured = new Set(configured);
    const marker = new Map<string, string>();
    for (const [lang, words] of stopwords) {
      if (!model.labels.includes(lang)) continue;
      for (const w of words) {
        // Short words are too ambiguous across languages ("a", "on", "ne", "me").
        if (w.length < 3) continue;
        const elsewhere = [...stopwords].some(([l, ws]) => l !== lang && ws.has(w));
        if (!elsewhere) marker.set(w, lang);
      }
    }
    this.marker = marker;
  }

  /** Detects the language of a tokenised message; `raw` is the original text (franc-min reads it). */
  detect(tokens: Tokens, raw: string, roomLanguage?: string): LanguageResult {
    const words = tokens.words.filter((w) => !isMask(w));
    let letters = 0;
    let stopHits = 0;
    const votes = new Map<string, number>();
    for (const w of words) {
      letters += w.length;
      if (this.stopwords.has(w)) stopHits++;
      const m = this.marker.get(w);
      if (m) votes.set(m, (votes.get(m) ?? 0) + 1);
    }
    const decided = decisive(votes);
    let language: string;
    if (decided) {
      language = decided;
    } else if (letters === 0) {
      language = roomLanguage ?? this.model.labels[0] ?? 'en';
    } else {
      const probs = this.model.predict({
        tokens: { ...tokens, words, negated: words.map(() => false) },
        stems: words,
        lexicon: undefined,
      });
      let best = 0;
      for (let k = 1; k < probs.length; k++) if ((probs[k] as number) > (probs[best] as number)) best = k;
      language = this.model.labels[best] as string;
      // One or two short words ("ok", "top", "super") are shared by both languages: the room knows better.
      const tiny = words.length <= 2 && letters < 12;
      const sure = (probs[best] as number) >= (tiny ? VERY_SURE : CONFIDENT);
      if (!sure && roomLanguage && (words.length <= 3 || letters < 15)) language = roomLanguage;
      if (stopHits === 0 && letters >= FRANC_MIN_LETTERS && words.length >= 4 && (probs[best] as number) < VERY_SURE) {
        const other = this.otherLanguage(raw);
        if (other) language = other;
      }
    }
    return { language, unsupported: !this.configured.has(language) };
  }

  /** franc-min's answer when it is clearly a language we have no model for. */
  private otherLanguage(raw: string): string | undefined {
    const ranked = francAll(raw, { minLength: FRANC_MIN_LETTERS });
    const [topCode] = ranked[0] ?? ['und', 0];
    const top = ISO3_TO_1[topCode];
    if (!top || this.model.labels.includes(top)) return undefined;
    let ours = 0;
    for (const [code, score] of ranked) {
      const l = ISO3_TO_1[code];
      if (l && this.model.labels.includes(l)) ours = Math.max(ours, score);
    }
    return ours < FRANC_MARGIN ? top : undefined;
  }
}

/** The language with at least two more marker words than any other, if there is one. */
function decisive(votes: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let top = 0;
  let second = 0;
  for (const [l, n] of votes) {
    if (n > top) {
      second = top;
      top = n;
      best = l;
    } else if (n > second) second = n;
  }
  return top - second >= 2 ? best : undefined;
}
