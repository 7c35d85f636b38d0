/**
 * Writes data/nlp/intent.jsonl and data/nlp/sentiment.jsonl from the project's templates, deterministically.
 * Run: node data/nlp/generate.ts. The committed JSONL is the training data; this script documents how it was made.
 */
import { writeFileSync } from 'node:fs';
import { createRng, expand, noisify, pick, type TemplateRow } from './template.ts';
import { EN_SLOTS, EN_TEMPLATES } from './templates-en.ts';
import { FR_SLOTS, FR_TEMPLATES } from './templates-fr.ts';

const INTENTS = ['question', 'complaint', 'billing', 'cancellation', 'purchase', 'technical', 'praise', 'greeting', 'other'];
const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;
const PER_INTENT = 170;
const PER_SENTIMENT = 560;

interface Lang {
  code: 'en' | 'fr';
  rows: readonly TemplateRow[];
  slots: Record<string, readonly string[]>;
  hello: readonly string[];
  thanks: readonly string[];
  joiners: readonly string[];
}

const LANGS: Lang[] = [
  {
    code: 'en',
    rows: EN_TEMPLATES,
    slots: EN_SLOTS,
    hello: ['hi', 'hello', 'hey', 'good morning', 'hi there', 'hello,'],
    thanks: ['thanks', 'thank you', 'thx', 'pls help', 'asap please'],
    joiners: [' and ', ', ', ' ... ', '. ', ' but '],
  },
  {
    code: 'fr',
    rows: FR_TEMPLATES,
    slots: FR_SLOTS,
    hello: ['bonjour', 'salut', 'bonsoir', 'bjr', 'bonjour,', 'hello'],
    thanks: ['merci', 'merci d\'avance', 'svp', 'stp', 'rapidement svp'],
    joiners: [' et ', ', ', ' ... ', '. ', ' mais '],
  },
];

function generate(lang: Lang, seed: number) {
  const rng = createRng(seed);
  const intentLines: string[] = [];
  for (const intent of INTENTS) {
    const rows = lang.rows.filter((r) => r[0] === intent);
    const seen = new Set<string>();
    for (let tries = 0; seen.size < PER_INTENT && tries < PER_INTENT * 50; tries++) {
      const row = pick(rng, rows);
      let text = expand(row[2], rng, lang.slots);
      if (intent !== 'greeting' && rng() < 0.2) text = `${pick(rng, lang.hello)} ${text}`;
      if (!['praise', 'greeting', 'other'].includes(intent) && rng() < 0.12) text = `${text} ${pick(rng, lang.thanks)}`;
      text = noisify(text, row[1], lang.code, rng);
      if (seen.has(text.toLowerCase())) continue;
      seen.add(text.toLowerCase());
      intentLines.push(JSON.stringify({ text, label: intent, lang: lang.code }));
    }
  }
  const sentimentLines: string[] = [];
  for (const sentiment of SENTIMENTS) {
    const rows = lang.rows.filter((r) => r[1] === sentiment);
    const neutralRows = lang.rows.filter((r) => r[1] === 'neutral' && r[0] !== 'greeting' && r[0] !== 'other');
    const seen = new Set<string>();
    for (let tries = 0; seen.size < PER_SENTIMENT && tries < PER_SENTIMENT * 50; tries++) {
      const row = pick(rng, rows);
      let text = expand(row[2], rng, lang.slots);
      // Mixed messages: a neutral request plus the feeling that decides the label.
      if (sentiment !== 'neutral' && rng() < 0.2) {
        text = `${expand(pick(rng, neutralRows)[2], rng, lang.slots)}${pick(rng, lang.joiners)}${text}`;
      }
      text = noisify(text, sentiment, lang.code, rng);
      if (seen.has(text.toLowerCase())) continue;
      seen.add(text.toLowerCase());
      sentimentLines.push(JSON.stringify({ text, label: sentiment, lang: lang.code }));
    }
  }
  return { intentLines, sentimentLines };
}

const out = LANGS.map((l, i) => generate(l, 20261122 + i));
const dir = new URL('.', import.meta.url);
writeFileSync(new URL('intent.jsonl', dir), `${out.flatMap((o) => o.intentLines).join('\n')}\n`);
writeFileSync(new URL('sentiment.jsonl', dir), `${out.flatMap((o) => o.sentimentLines).join('\n')}\n`);
process.stderr.write(`intent: ${out.map((o) => o.intentLines.length).join('+')}, sentiment: ${out.map((o) => o.sentimentLines.length).join('+')}\n`);
