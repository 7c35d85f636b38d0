/** `nlp train`, `nlp evaluate` and `nlp classify`: the classifier's own tools (config section [nlp] only). */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../../config/index.ts';
import {
  DATA_DIR,
  DataError,
  evaluate,
  formatReport,
  loadModelSet,
  loadTrainingData,
  Pipeline,
  readJsonl,
  resolveModelDir,
  trainAll,
  writeModelFiles,
} from '../../nlp/index.ts';
import { type Command, type CommandIo, EXIT } from '../command.ts';

function nlpConfig(configPath: string | undefined, io: CommandIo) {
  return loadConfig({ path: configPath, env: io.env, sections: ['nlp'] }).nlp;
}

export const nlpTrainCommand: Command = {
  name: 'nlp train',
  summary: 'rebuild the classifier models from data/nlp and the public data sets (deterministic)',
  usage: 'nlp train [--data DIR] [--out DIR]',
  description: `
Trains the language, sentiment and intent models from data/nlp/*.jsonl (minus the held-out split) and the public
labelled sets installed as dev dependencies (minus their SHA-1 holdout), with fixed seeds, and writes them with a
manifest into [nlp] model_dir (or --out). The same data always gives the same bytes; the model version is their
content hash.`,
  options: { data: { type: 'string' }, out: { type: 'string' } },
  optionHelp: {
    data: 'folder with sentiment.jsonl and intent.jsonl (default: the packaged data/nlp)',
    out: 'output folder',
  },
  sections: ['nlp'],
  async run({ values, configPath, io }) {
    const cfg = nlpConfig(configPath, io);
    const out = resolve((values.out as string | undefined) ?? cfg.model_dir);
    const started = performance.now();
    const { train } = loadTrainingData((values.data as string | undefined) ?? DATA_DIR);
    const texts = trainAll(train);
    writeModelFiles(out, texts);
    const version = (JSON.parse(texts['manifest.json'] as string) as { model_version: string }).model_version;
    io.err(
      `trained on ${train.sentiment.length + train.publicSentiment.length} sentiment and ${train.intent.length} intent examples in ${Math.round(performance.now() - started)} ms; model version ${version} written to ${out}\n`,
    );
    return EXIT.ok;
  },
};

export const nlpEvaluateCommand: Command = {
  name: 'nlp evaluate',
  summary: 'accuracy, macro-F1, per-class scores, confusion matrix and messages/s on a labelled JSONL file',
  usage: 'nlp evaluate --task sentiment|intent --data FILE.jsonl [--train FILE.jsonl] [--format text|json]',
  description: `
Each line of FILE.jsonl is an object with a string "text" and a non-empty string "label" (other keys ignored).
Without --train the shipped model is scored and gold labels outside its label set are skipped (and counted).
With --train a fresh model of the same method is trained on that file (its own labels) and scored. macro_f1
averages over the classes present in the gold labels; a "neutral" prediction on data without that class counts
as wrong. msgs_per_second is the full per-message pipeline (normalise, language, sentiment, intent), one thread,
after a warm-up pass, over passes lasting at least one second.`,
  options: {
    task: { type: 'string' },
    data: { type: 'string' },
    train: { type: 'string' },
    format: { type: 'string', default: 'text' },
  },
  optionHelp: {
    task: 'sentiment or intent',
    data: 'labelled JSONL file to score',
    train: 'train a fresh model on this JSONL file first',
    format: 'text (default) or json',
  },
  sections: ['nlp'],
  async run({ values, configPath, io }) {
    const task = values.task;
    if (task !== 'sentiment' && task !== 'intent') {
      io.err('nlp evaluate: --task must be sentiment or intent\n');
      return EXIT.usage;
    }
    if (typeof values.data !== 'string') {
      io.err('nlp evaluate: --data FILE.jsonl is required\n');
      return EXIT.usage;
    }
    if (values.format !== 'text' && values.format !== 'json') {
      io.err('nlp evaluate: --format must be text or json\n');
      return EXIT.usage;
    }
    const cfg = nlpConfig(configPath, io);
    let data: ReturnType<typeof readJsonl>;
    let train: ReturnType<typeof readJsonl> | undefined;
    try {
      data = readJsonl(values.data);
      train = typeof values.train === 'string' ? readJsonl(values.train) : undefined;
    } catch (err) {
      if (err instanceof DataError) {
        io.err(`nlp evaluate: ${err.message}\n`);
        return EXIT.usage;
      }
      throw err;
    }
    if (train && new Set(train.map((e) => e.label)).size < 2) {
      io.err('nlp evaluate: --train needs at least two distinct labels\n');
      return EXIT.usage;
    }
    const models = loadModelSet(resolveModelDir(cfg.model_dir));
    const report = evaluate({ task, data, train, models, languages: cfg.languages });
    io.out(values.format === 'json' ? `${JSON.stringify(report)}\n` : formatReport(report));
    return EXIT.ok;
  },
};

export const nlpClassifyCommand: Command = {
  name: 'nlp classify',
  summary: 'classify text: one JSON object (language, sentiment, intent, keywords) per input line',
  usage: 'nlp classify [TEXT | -]',
  description: `
Classifies TEXT, or each line of standard input with "-" (or with no argument when standard input is not a
terminal), and prints one JSON object per line:
{"language","sentiment":{"label","score"},"intent":{"label","confidence","runner_up"},"keywords"}.`,
  options: {},
  optionHelp: {},
  allowPositionals: true,
  sections: ['nlp'],
  async run({ positionals, configPath, io }) {
    if (positionals.length > 1) {
      io.err('nlp classify: give one TEXT argument (quote it), or "-" to read standard input\n');
      return EXIT.usage;
    }
    const arg = positionals[0];
    const stdinIsTty = (io.stdin as { isTTY?: boolean }).isTTY === true;
    if (arg === undefined && stdinIsTty) {
      io.err('nlp classify: give a TEXT argument or pipe text into standard input ("-")\n');
      return EXIT.usage;
    }
    const cfg = nlpConfig(configPath, io);
    const pipeline = new Pipeline(loadModelSet(resolveModelDir(cfg.model_dir)), cfg.languages);
    const emit = (line: string) => {
      if (line.trim() === '') return;
      const r = pipeline.classify(line);
      io.out(
        `${JSON.stringify({
          language: r.language,
          sentiment: { label: r.sentiment.label, score: r.sentiment.score },
          intent: { label: r.intent.label, confidence: r.intent.confidence, runner_up: r.intent.runnerUp },
          keywords: r.keywords,
        })}\n`,
      );
    };
    if (arg !== undefined && arg !== '-') {
      for (const line of arg.split('\n')) emit(line);
      return EXIT.ok;
    }
    const rl = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of rl) emit(line);
    return EXIT.ok;
  },
};
