/**
 * The per-message pipeline: normalise → language → sentiment → intent (+ keywords). Pure and synchronous once
 * the models are loaded; safe to call in a tight loop (no I/O, no logging).
 */
import { SENTIMENT_LABELS } from '../db/schema/classification.ts';
import { stem } from './features.ts';
import { LanguageDetector } from './language.ts';
import { type Analysed, extractFeatures, sameFeatures } from './model.ts';
import type { ModelSet } from './model-files.ts';
import { isMask, normaliseText, tokenize } from './text.ts';

export { INTENT_LABELS, SENTIMENT_LABELS } from '../db/schema/classification.ts';
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

export interface MessageResult {
  language: string;
  languageUnsupported: boolean;
  sentiment: { label: SentimentLabel; score: number };
  intent: { label: string; confidence: number; runnerUp: string | null; runnerUpConfidence: number | null };
  keywords: string[];
  /** Content words of the message as [stem, surface] pairs, for conversation keywords. */
  terms: [string, string][];
}

export interface AnalyseOptions {
  /** The room's dominant language, used when the text is too short to tell. */
  roomLanguage?: string;
  /** Skip keyword extraction (evaluation and benchmarks measure the classifier path only). */
  keywords?: boolean;
}

const MAX_KEYWORDS = 5;

export class Pipeline {
  readonly models: ModelSet;
  private readonly detector: LanguageDetector;

  constructor(models: ModelSet, languages: readonly string[]) {
    this.models = models;
    this.detector = new LanguageDetector(models.language, models.stopwords, languages);
  }

  /** Tokenises and stems `text` for the detected language. */
  analyse(text: string, opts: AnalyseOptions = {}): { analysed: Analysed; language: string; unsupported: boolean } {
    const tokens = tokenize(normaliseText(text));
    const { language, unsupported } = this.detector.detect(tokens, text, opts.roomLanguage);
    const stems = tokens.words.map((w) => stem(w, language));
    const lexicon = this.models.lexicons.get(language) ?? this.models.lexicons.get('en');
    return { analysed: { tokens, stems, lexicon }, language, unsupported };
  }

  classify(text: string, opts: AnalyseOptions = {}): MessageResult {
    const { analysed, language, unsupported } = this.analyse(text, opts);
    const { sentiment, intent } = this.models;
    const shared = sameFeatures(sentiment.features, intent.features)
      ? extractFeatures(sentiment.features, analysed)
      : undefined;
    const s = shared ? sentiment.predictFeatures(shared) : sentiment.predict(analysed);
    const labels = this.models.sentiment.labels;
    const pPos = s[labels.indexOf('positive')] ?? 0;
    const pNeg = s[labels.indexOf('negative')] ?? 0;
    const sentimentLabel = labels[argmax(s)] as SentimentLabel;
    const intentProbs = shared ? intent.predictFeatures(shared) : intent.predict(analysed);
    const [first, second] = top2(intentProbs);
    const terms = opts.keywords === false ? [] : this.terms(analysed, language);
    return {
      language,
      languageUnsupported: unsupported,
      sentiment: { label: sentimentLabel, score: round3(pPos - pNeg) },
      intent: {
        label: this.models.intent.labels[first] as string,
        confidence: round3(intentProbs[first] as number),
        runnerUp: second >= 0 ? (this.models.intent.labels[second] as string) : null,
        runnerUpConfidence: second >= 0 ? round3(intentProbs[second] as number) : null,
      },
      keywords: opts.keywords === false ? [] : this.rankTerms(terms).slice(0, MAX_KEYWORDS),
      terms,
    };
  }

  /** Content words: not stop words, not masks, at least 3 letters, not digits. */
  private terms(a: Analysed, language: string): [string, string][] {
    const stop = this.models.stopwords.get(language) ?? this.models.stopwords.get('en');
    const out: [string, string][] = [];
    const { words } = a.tokens;
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      if (w.length < 3 || isMask(w) || stop?.has(w) || /^\d+$/.test(w)) continue;
      out.push([a.stems[i] as string, w]);
    }
    return out;
  }

  /** Inverse document frequency of a stem in the training corpus (max when unseen). */
  idf(stemmed: string): number {
    return this.models.intent.idfOf(`w:${stemmed}`) ?? this.models.maxIdf;
  }

  private rankTerms(terms: readonly [string, string][]): string[] {
    const byStem = new Map<string, { count: number; surface: Map<string, number> }>();
    for (const [s, w] of terms) {
      let e = byStem.get(s);
      if (!e) {
        e = { count: 0, surface: new Map() };
        byStem.set(s, e);
      }
      e.count++;
      e.surface.set(w, (e.surface.get(w) ?? 0) + 1);
    }
    return [...byStem.entries()]
      .map(([s, e]) => ({ score: e.count * this.idf(s), word: mostFrequent(e.surface) }))
      .sort((a, b) => b.score - a.score || (a.word < b.word ? -1 : 1))
      .map((e) => e.word);
  }
}

export function mostFrequent(counts: ReadonlyMap<string, number>): string {
  let best = '';
  let n = -1;
  for (const [w, c] of counts) if (c > n || (c === n && w < best)) [best, n] = [w, c];
  return best;
}

function argmax(p: readonly number[]): number {
  let b = 0;
  for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[b] as number)) b = k;
  return b;
}

function top2(p: readonly number[]): [number, number] {
  let a = -1;
  let b = -1;
  for (let k = 0; k < p.length; k++) {
    if (a < 0 || (p[k] as number) > (p[a] as number)) [a, b] = [k, a];
    else if (b < 0 || (p[k] as number) > (p[b] as number)) b = k;
  }
  return [a, b];
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
