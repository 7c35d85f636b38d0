/**
 * `npm run bench -- nlp`: our models against the baselines, same splits, same run.
 * Sentiment: our held-out split (en, fr), the held-out part of the UCI review sentences (never trained on), and
 * the short IMDB reviews (never trained on); baselines natural SentimentAnalyzer (afinn, pattern), `sentiment`,
 * `vader-sentiment`, `wink-nlp`. A baseline's score > 0 is positive, < 0 negative, 0 neutral (vader: ±0.05).
 * Intent: our held-out split; natural BayesClassifier and @nlpjs/nlp trained on the same training split.
 * Then messages/s of the full pipeline and of each baseline, and peak RSS.
 */
import { createRequire } from 'node:module';
import { loadImdbReviews } from '../../src/nlp/dataset.ts';
import {
  computeMetrics,
  type Example,
  loadModelSet,
  loadTrainingData,
  PACKAGED_MODEL_DIR,
  Pipeline,
} from '../../src/nlp/index.ts';

const require = createRequire(import.meta.url);
// Deep paths: natural's index loads dotenv, which prints to stdout.
const SentimentAnalyzer = require('natural/lib/natural/sentiment/SentimentAnalyzer.js');
const BayesClassifier = require('natural/lib/natural/classifiers/bayes_classifier.js');
const porterEn = require('natural/lib/natural/stemmers/porter_stemmer.js');
const porterFr = require('natural/lib/natural/stemmers/porter_stemmer_fr.js');
const Sentiment = require('sentiment');
const vader = require('vader-sentiment');
const winkNLP = require('wink-nlp');
const winkModel = require('wink-eng-lite-web-model');
const { Nlp } = require('@nlpjs/nlp');

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

const { train, heldOut } = loadTrainingData();
const pipeline = new Pipeline(loadModelSet(PACKAGED_MODEL_DIR), ['en', 'fr']);
const imdb = loadImdbReviews().examples;

type Predict = (text: string) => string;
const polarity = (score: number, eps = 0) => (score > eps ? 'positive' : score < -eps ? 'negative' : 'neutral');
const words = (t: string) => t.toLowerCase().match(/[\p{L}']+/gu) ?? [];

const afinnEn = new SentimentAnalyzer('English', porterEn, 'afinn');
const patternEn = new SentimentAnalyzer('English', null, 'pattern');
const patternFr = new SentimentAnalyzer('French', porterFr, 'pattern');
const sentimentPkg = new Sentiment();
const wink = winkNLP(winkModel);

const SENTIMENT_SYSTEMS: Record<string, { en?: Predict; fr?: Predict }> = {
  'ours (linear, TF-IDF + lexicon)': {
    en: (t) => pipeline.classify(t, { keywords: false }).sentiment.label,
    fr: (t) => pipeline.classify(t, { keywords: false }).sentiment.label,
  },
  'natural afinn': { en: (t) => polarity(afinnEn.getSentiment(words(t))) },
  'natural pattern': {
    en: (t) => polarity(patternEn.getSentiment(words(t))),
    fr: (t) => polarity(patternFr.getSentiment(words(t))),
  },
  sentiment: { en: (t) => polarity(sentimentPkg.analyze(t).comparative) },
  'vader-sentiment': { en: (t) => polarity(vader.SentimentIntensityAnalyzer.polarity_scores(t).compound, 0.05) },
  'wink-nlp': { en: (t) => polarity(wink.readDoc(t).out(wink.its.sentiment)) },
};

function score(xs: readonly Example[], f: Predict) {
  const m = computeMetrics(
    xs.map((x) => x.label),
    xs.map((x) => f(x.text)),
  );
  sampleRss();
  return `${m.accuracy.toFixed(3)} / ${m.macro_f1.toFixed(3)}`;
}

function rate(texts: readonly string[], f: (t: string) => unknown, minMs = 1000): number {
  for (const t of texts) f(t);
  const start = performance.now();
  let n = 0;
  do {
    for (const t of texts) f(t);
    n += texts.length;
  } while (performance.now() - start < minMs);
  return Math.round(n / ((performance.now() - start) / 1000));
}

const sets: [string, 'en' | 'fr', Example[]][] = [
  ['own held-out en', 'en', heldOut.sentiment.filter((e) => e.lang === 'en')],
  ['own held-out fr', 'fr', heldOut.sentiment.filter((e) => e.lang === 'fr')],
  ['UCI sentences held-out (en)', 'en', heldOut.publicSentiment],
  ['IMDB short reviews, unseen (en)', 'en', imdb],
];

console.log('\n## Sentiment: accuracy / macro-F1 (neutral counts wrong on binary sets)\n');
console.log(`| system | ${sets.map(([n, , xs]) => `${n} (n=${xs.length})`).join(' | ')} |`);
console.log(`| --- | ${sets.map(() => '---').join(' | ')} |`);
for (const [name, sys] of Object.entries(SENTIMENT_SYSTEMS)) {
  const cells = sets.map(([, lang, xs]) => (sys[lang] ? score(xs, sys[lang] as Predict) : 'n/a'));
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}

console.log('\n## Intent: accuracy / macro-F1 on our held-out split (same training split for every system)\n');
const bayes = { en: new BayesClassifier(porterEn), fr: new BayesClassifier(porterFr) };
for (const e of train.intent) bayes[e.lang === 'fr' ? 'fr' : 'en'].addDocument(e.text, e.label);
let t0 = performance.now();
bayes.en.train();
bayes.fr.train();
const bayesTrainMs = Math.round(performance.now() - t0);
const nlpjs = new Nlp({ languages: ['en', 'fr'], autoSave: false, log: false, nlu: { log: false } });
for (const e of train.intent) nlpjs.addDocument(e.lang === 'fr' ? 'fr' : 'en', e.text, e.label);
t0 = performance.now();
await nlpjs.train();
const nlpjsTrainMs = Math.round(performance.now() - t0);
const nlpjsPredictions = new Map<string, string>();
for (const e of heldOut.intent) {
  const r = await nlpjs.process(e.lang === 'fr' ? 'fr' : 'en', e.text);
  nlpjsPredictions.set(e.text, r.intent === 'None' ? 'other' : r.intent);
}
const INTENT_SYSTEMS: Record<string, (e: Example) => string> = {
  'ours (linear, TF-IDF + char n-grams)': (e) => pipeline.classify(e.text, { keywords: false }).intent.label,
  'natural BayesClassifier (language given)': (e) => bayes[e.lang === 'fr' ? 'fr' : 'en'].classify(e.text),
  '@nlpjs/nlp (language given)': (e) => nlpjsPredictions.get(e.text) ?? 'other',
};
console.log('| system | en | fr |');
console.log('| --- | --- | --- |');
for (const [name, f] of Object.entries(INTENT_SYSTEMS)) {
  const cells = (['en', 'fr'] as const).map((lang) => {
    const xs = heldOut.intent.filter((e) => e.lang === lang);
    const m = computeMetrics(
      xs.map((x) => x.label),
      xs.map((x) => f(x)),
    );
    return `${m.accuracy.toFixed(3)} / ${m.macro_f1.toFixed(3)}`;
  });
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
console.log(`\n(training time: natural Bayes ${bayesTrainMs} ms, @nlpjs/nlp ${nlpjsTrainMs} ms)`);

console.log('\n## Throughput, one thread (messages/s)\n');
const chat = [...heldOut.sentiment, ...heldOut.intent].map((e) => e.text);
const reviews = heldOut.publicSentiment.map((e) => e.text);
console.log('| system | chat messages | review sentences |');
console.log('| --- | --- | --- |');
const rows: [string, (t: string) => unknown][] = [
  ['ours: full pipeline (normalise, language, sentiment, intent)', (t) => pipeline.classify(t, { keywords: false })],
  ['ours: full pipeline + keywords', (t) => pipeline.classify(t)],
  ['natural afinn', (t) => afinnEn.getSentiment(words(t))],
  ['sentiment', (t) => sentimentPkg.analyze(t)],
  ['vader-sentiment', (t) => vader.SentimentIntensityAnalyzer.polarity_scores(t)],
  ['wink-nlp', (t) => wink.readDoc(t).out(wink.its.sentiment)],
  ['natural BayesClassifier', (t) => bayes.en.classify(t)],
];
for (const [name, f] of rows) {
  console.log(`| ${name} | ${rate(chat, f)} | ${rate(reviews, f)} |`);
  sampleRss();
}
console.log(`\npeak RSS: ${Math.round(peakRss / 1048576)} MiB`);
