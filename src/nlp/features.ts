/**
 * Feature extraction shared by the sentiment and intent models: stemmed word unigrams (negation-marked), word
 * bigrams, character n-grams of each word (robust to typos), and a small dense block of lexicon features (AFINN,
 * pattern and SentiWordNet-derived polarities from natural, emoji polarity, punctuation). Pure; stems are cached.
 */
import { createRequire } from 'node:module';
import { isMask, MASKS, type Tokens } from './text.ts';

// Deep imports on purpose: natural's index also loads its storage back-ends, which call dotenv (printing to
// stdout and reading .env), and stdout is this program's output channel.
const require = createRequire(import.meta.url);
const porterEn = require('natural/lib/natural/stemmers/porter_stemmer.js') as { stem(w: string): string };
const porterFr = require('natural/lib/natural/stemmers/porter_stemmer_fr.js') as { stem(w: string): string };

const STEM_CACHE_LIMIT = 100_000;
const stemCaches = new Map<string, Map<string, string>>();

/** Porter stem (English or French, other languages use English), cached because natural's stemmers cost ~5 µs. */
export function stem(word: string, lang: string): string {
  if (word.length <= 3 || isMask(word)) return word;
  const key = lang === 'fr' ? 'fr' : 'en';
  let cache = stemCaches.get(key);
  if (!cache) {
    cache = new Map();
    stemCaches.set(key, cache);
  }
  let s = cache.get(word);
  if (s === undefined) {
    s = (key === 'fr' ? porterFr : porterEn).stem(word);
    if (cache.size >= STEM_CACHE_LIMIT) cache.clear();
    cache.set(word, s);
  }
  return s;
}

export interface FeatureOptions {
  /** Word bigrams of stems. */
  bigrams: boolean;
  /** Character n-gram sizes taken inside each padded word, e.g. [3, 4]; empty for none. */
  charNgrams: readonly number[];
  /** Append the dense lexicon block. */
  lexicon: boolean;
}

/** Word → polarity in [-1, 1], per language. */
export type Lexicon = ReadonlyMap<string, number>;

export const DENSE_FEATURES = [
  'lex_pos',
  'lex_neg',
  'lex_mean',
  'emo_pos',
  'emo_neg',
  'exclaim',
  'question',
  'elongated',
] as const;

/** Sparse feature counts of one analysed message, keyed by feature string. */
export function sparseFeatures(tokens: Tokens, stems: readonly string[], opts: FeatureOptions): Map<string, number> {
  const out = new Map<string, number>();
  const add = (f: string) => out.set(f, (out.get(f) ?? 0) + 1);
  const { words, negated } = tokens;
  let prev = '<s>';
  for (let i = 0; i < words.length; i++) {
    const s = stems[i] as string;
    add(negated[i] ? `w!${s}` : `w:${s}`);
    if (opts.bigrams) add(`b:${prev} ${s}`);
    prev = s;
    const w = words[i] as string;
    if (opts.charNgrams.length > 0 && w.length >= 3 && !isMask(w)) {
      const padded = ` ${w} `;
      for (const n of opts.charNgrams) {
        for (let j = 0; j + n <= padded.length; j++) add(`c:${padded.slice(j, j + n)}`);
      }
    }
  }
  if (opts.bigrams && words.length > 0) add(`b:${prev} </s>`);
  return out;
}

/** The dense block, in {@link DENSE_FEATURES} order. Negated lexicon words count with the opposite sign, halved. */
export function denseFeatures(tokens: Tokens, lexicon: Lexicon | undefined): number[] {
  let pos = 0;
  let neg = 0;
  let sum = 0;
  let hits = 0;
  let emoPos = 0;
  let emoNeg = 0;
  let elongated = 0;
  const { words, negated } = tokens;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === MASKS.emojiPositive) emoPos++;
    else if (w === MASKS.emojiNegative) emoNeg++;
    else if (w === MASKS.elongated) elongated = 1;
    if (!lexicon) continue;
    let p = lexicon.get(w);
    if (p === undefined && w.length > 4 && w.endsWith('s')) p = lexicon.get(w.slice(0, -1));
    if (p === undefined) continue;
    if (negated[i]) p = -0.5 * p;
    hits++;
    sum += p;
    if (p > 0) pos += p;
    else neg -= p;
  }
  return [
    Math.tanh(pos),
    Math.tanh(neg),
    hits > 0 ? sum / hits : 0,
    Math.min(emoPos, 3) / 3,
    Math.min(emoNeg, 3) / 3,
    Math.min(tokens.exclamations, 3) / 3,
    Math.min(tokens.questions, 2) / 2,
    elongated,
  ];
}

/** A sparse vector: parallel index/value arrays. */
export interface SparseVector {
  idx: number[];
  val: number[];
}

/** Maps feature strings to columns with TF-IDF weighting (sublinear tf, L2-normalised), dense block after. */
export class Vectorizer {
  readonly index: ReadonlyMap<string, number>;
  readonly idf: Float64Array;
  readonly size: number;

  constructor(vocab: readonly string[], idf: readonly number[], denseCount: number) {
    this.index = new Map(vocab.map((f, i) => [f, i]));
    this.idf = Float64Array.from(idf);
    this.size = vocab.length + denseCount;
  }

  vectorize(sparse: ReadonlyMap<string, number>, dense: readonly number[] | undefined): SparseVector {
    const idx: number[] = [];
    const val: number[] = [];
    let norm = 0;
    for (const [f, count] of sparse) {
      const j = this.index.get(f);
      if (j === undefined) continue;
      const v = (1 + Math.log(count)) * (this.idf[j] as number);
      idx.push(j);
      val.push(v);
      norm += v * v;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let k = 0; k < val.length; k++) val[k] = (val[k] as number) * inv;
    }
    if (dense) {
      const base = this.index.size;
      for (let k = 0; k < dense.length; k++) {
        if (dense[k] !== 0) {
          idx.push(base + k);
          val.push(dense[k] as number);
        }
      }
    }
    return { idx, val };
  }
}

/** Builds the vocabulary (features seen in at least `minDf` documents, char n-grams in `minDfChar`) and IDF. */
export function buildVocabulary(
  docs: readonly ReadonlyMap<string, number>[],
  minDf: number,
  minDfChar: number,
): { vocab: string[]; idf: number[] } {
  const df = new Map<string, number>();
  for (const d of docs) for (const f of d.keys()) df.set(f, (df.get(f) ?? 0) + 1);
  const vocab = [...df.entries()]
    .filter(([f, n]) => n >= (f.startsWith('c:') ? minDfChar : minDf))
    .map(([f]) => f)
    .sort();
  const n = docs.length;
  const idf = vocab.map((f) => round(Math.log((1 + n) / (1 + (df.get(f) as number))) + 1, 4));
  return { vocab, idf };
}

export function round(x: number, digits: number): number {
  const p = 10 ** digits;
  const r = Math.round(x * p) / p;
  return r === 0 ? 0 : r;
}
