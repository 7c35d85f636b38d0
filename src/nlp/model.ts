/**
 * A trained linear text model (features + vocabulary + softmax weights) and its JSON form. The JSON is canonical
 * (fixed key order, rounded numbers) so training twice gives the same bytes and the content hash is the version.
 */
import { createHash } from 'node:crypto';
import {
  buildVocabulary,
  DENSE_FEATURES,
  denseFeatures,
  type FeatureOptions,
  type Lexicon,
  round,
  type SparseVector,
  sparseFeatures,
  Vectorizer,
} from './features.ts';
import { type LinearWeights, predictProba, type TrainOptions, trainSoftmax } from './linear.ts';
import type { Tokens } from './text.ts';

export const MODEL_FORMAT = 1;

/** The serialised model, as stored in models/<kind>.json. */
export interface ModelJson {
  format: number;
  kind: string;
  labels: string[];
  features: FeatureOptions;
  training: Omit<TrainOptions, 'sampleWeights'> & { examples: number; minDf: number; minDfChar: number };
  vocab: string[];
  idf: number[];
  /** vocab.length + dense features, times labels.length, row-major by feature. */
  weights: number[];
  bias: number[];
}

/** One message already tokenised and stemmed: what every model consumes. */
export interface Analysed {
  tokens: Tokens;
  stems: string[];
  lexicon: Lexicon | undefined;
}

export class LinearTextModel {
  readonly kind: string;
  readonly labels: readonly string[];
  readonly features: FeatureOptions;
  private readonly vectorizer: Vectorizer;
  private readonly linear: LinearWeights;
  private readonly scratch: Float64Array;

  constructor(json: ModelJson) {
    this.kind = json.kind;
    this.labels = json.labels;
    this.features = json.features;
    const dense = json.features.lexicon ? DENSE_FEATURES.length : 0;
    this.vectorizer = new Vectorizer(json.vocab, json.idf, dense);
    this.linear = { weights: Float64Array.from(json.weights), bias: Float64Array.from(json.bias) };
    this.scratch = new Float64Array(json.labels.length);
  }

  /** Inverse document frequency of a feature string, or undefined when it is not in the vocabulary. */
  idfOf(feature: string): number | undefined {
    const j = this.vectorizer.index.get(feature);
    return j === undefined ? undefined : this.vectorizer.idf[j];
  }

  /** Class probabilities, in `labels` order. Returns a fresh array. */
  predict(a: Analysed): number[] {
    return this.predictFeatures(extractFeatures(this.features, a));
  }

  /** Same as {@link predict} from features already extracted with this model's options (shared between models). */
  predictFeatures(f: ExtractedFeatures): number[] {
    const x: SparseVector = this.vectorizer.vectorize(f.sparse, this.features.lexicon ? f.dense : undefined);
    predictProba(this.linear, this.labels.length, x, this.scratch);
    return Array.from(this.scratch);
  }
}

export interface ExtractedFeatures {
  sparse: Map<string, number>;
  dense: number[] | undefined;
}

export function extractFeatures(opts: FeatureOptions, a: Analysed): ExtractedFeatures {
  return {
    sparse: sparseFeatures(a.tokens, a.stems, opts),
    dense: opts.lexicon ? denseFeatures(a.tokens, a.lexicon) : undefined,
  };
}

export function sameFeatures(a: FeatureOptions, b: FeatureOptions): boolean {
  return a.bigrams === b.bigrams && a.lexicon === b.lexicon && a.charNgrams.join() === b.charNgrams.join();
}

export interface TrainSpec {
  kind: string;
  features: FeatureOptions;
  options: Omit<TrainOptions, 'sampleWeights'>;
  minDf: number;
  minDfChar: number;
}

/** Trains a model on analysed examples; `labels` fixes the class order (sorted label set when omitted). */
export function trainModel(
  spec: TrainSpec,
  examples: readonly { analysed: Analysed; label: string; weight?: number }[],
  labels?: readonly string[],
): ModelJson {
  const labelList = labels ? [...labels] : [...new Set(examples.map((e) => e.label))].sort();
  const labelIndex = new Map(labelList.map((l, i) => [l, i]));
  const sparse = examples.map((e) => sparseFeatures(e.analysed.tokens, e.analysed.stems, spec.features));
  const { vocab, idf } = buildVocabulary(sparse, spec.minDf, spec.minDfChar);
  const dense = spec.features.lexicon ? DENSE_FEATURES.length : 0;
  const vectorizer = new Vectorizer(vocab, idf, dense);
  const xs = examples.map((e, i) =>
    vectorizer.vectorize(
      sparse[i] as Map<string, number>,
      spec.features.lexicon ? denseFeatures(e.analysed.tokens, e.analysed.lexicon) : undefined,
    ),
  );
  const ys = examples.map((e) => labelIndex.get(e.label) as number);
  const sampleWeights = examples.some((e) => e.weight !== undefined) ? examples.map((e) => e.weight ?? 1) : undefined;
  const w = trainSoftmax(xs, ys, labelList.length, vectorizer.size, { ...spec.options, sampleWeights });
  return {
    format: MODEL_FORMAT,
    kind: spec.kind,
    labels: labelList,
    features: {
      bigrams: spec.features.bigrams,
      charNgrams: [...spec.features.charNgrams],
      lexicon: spec.features.lexicon,
    },
    training: { ...spec.options, examples: examples.length, minDf: spec.minDf, minDfChar: spec.minDfChar },
    vocab,
    idf,
    weights: Array.from(w.weights, (x) => round(x, 4)),
    bias: Array.from(w.bias, (x) => round(x, 4)),
  };
}

/** Canonical text of a model file (the bytes committed under models/). */
export function serialiseModel(json: unknown): string {
  return `${JSON.stringify(json)}\n`;
}

/** First 12 hex digits of the SHA-256 of `text`. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
