/**
 * The model files under models/: language.json, sentiment.json, intent.json, lexicon.json and manifest.json.
 * The model version is the content hash of the four model files; manifest.json records it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import type { Lexicon } from './features.ts';
import { contentHash, LinearTextModel, type ModelJson } from './model.ts';

export const MODEL_FILES = ['language.json', 'lexicon.json', 'sentiment.json', 'intent.json'] as const;

/** models/lexicon.json: polarity word lists and stop words per language, extracted from natural at train time. */
export interface LexiconJson {
  format: number;
  kind: 'lexicon';
  polarity: Record<string, Record<string, number>>;
  stopwords: Record<string, string[]>;
}

export interface ManifestJson {
  model_version: string;
  files: Record<string, string>;
}

export interface ModelSet {
  /** Content hash of the model files: stored with every classification. */
  version: string;
  language: LinearTextModel;
  sentiment: LinearTextModel;
  intent: LinearTextModel;
  lexicons: ReadonlyMap<string, Lexicon>;
  stopwords: ReadonlyMap<string, ReadonlySet<string>>;
  /** Largest IDF of the intent vocabulary: the weight of a word never seen in training. */
  maxIdf: number;
  /** Parsed language and lexicon files, for training fresh models with the same analysis (`evaluate --train`). */
  raw: { language: ModelJson; lexicon: LexiconJson };
}

/** The models/ folder shipped with the package. */
export const PACKAGED_MODEL_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

/** Version of a set of model file texts (name → text). */
export function modelVersion(texts: Readonly<Record<string, string>>): {
  version: string;
  files: Record<string, string>;
} {
  const files: Record<string, string> = {};
  for (const name of MODEL_FILES) files[name] = contentHash(texts[name] ?? '');
  return { version: contentHash(MODEL_FILES.map((n) => `${n}:${files[n]}`).join('\n')), files };
}

/** Resolves `[nlp] model_dir`: relative paths against the working directory, then the packaged models. */
export function resolveModelDir(modelDir: string): string {
  const p = resolve(modelDir);
  if (existsSync(join(p, 'manifest.json'))) return p;
  if (modelDir === './models' || modelDir === 'models') return PACKAGED_MODEL_DIR;
  return p;
}

export function loadModelSet(dir: string): ModelSet {
  const texts: Record<string, string> = {};
  for (const name of MODEL_FILES) {
    const path = join(dir, name);
    try {
      texts[name] = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new ConfigError(
        'nlp.model_dir',
        `cannot read model file ${path}: run \`matrix-crm-bridge nlp train\` or fix [nlp] model_dir`,
        {
          cause,
        },
      );
    }
  }
  const { version } = modelVersion(texts);
  const parse = (name: string): unknown => {
    try {
      return JSON.parse(texts[name] as string);
    } catch (cause) {
      throw new ConfigError('nlp.model_dir', `model file ${join(dir, name)} is not valid JSON`, { cause });
    }
  };
  const lexicon = parse('lexicon.json') as LexiconJson;
  const languageJson = parse('language.json') as ModelJson;
  const intentJson = parse('intent.json') as ModelJson;
  const intent = new LinearTextModel(intentJson);
  return {
    version,
    language: new LinearTextModel(languageJson),
    sentiment: new LinearTextModel(parse('sentiment.json') as ModelJson),
    intent,
    lexicons: new Map(Object.entries(lexicon.polarity).map(([l, m]) => [l, new Map(Object.entries(m))])),
    stopwords: new Map(Object.entries(lexicon.stopwords).map(([l, w]) => [l, new Set(w)])),
    maxIdf: intentJson.idf.reduce((a, b) => Math.max(a, b), 1),
    raw: { language: languageJson, lexicon },
  };
}
