/**
 * `nlp evaluate`: scores the shipped model (or a fresh one of the same method trained on `--train`) on a labelled
 * JSONL file, and measures the throughput of the full per-message pipeline.
 */
import type { Example } from './dataset.ts';
import { computeMetrics, type Metrics } from './metrics.ts';
import type { ModelSet } from './model-files.ts';
import { INTENT_LABELS, Pipeline, SENTIMENT_LABELS } from './pipeline.ts';
import { Analyser, trainFresh } from './train.ts';

export type Task = 'sentiment' | 'intent';

export interface EvaluationReport extends Metrics {
  task: Task;
  /** Items skipped because their gold label is outside the evaluated model's label set. */
  skipped: number;
  msgs_per_second: number;
}

export interface EvaluateInput {
  task: Task;
  data: readonly Example[];
  models: ModelSet;
  languages: readonly string[];
  /** When set, a fresh model is trained on these and evaluated instead of the shipped one. */
  train?: readonly Example[];
  /** Minimum wall time of the throughput measurement, ms (tests pass a small value). */
  minBenchMs?: number;
  now?: () => number;
}

export function evaluate(input: EvaluateInput): EvaluationReport {
  const { task, models } = input;
  let set = models;
  if (input.train) {
    const fresh = trainFresh(task, input.train, new Analyser(models.raw.lexicon, models.raw.language));
    set = { ...models, [task]: fresh };
  }
  const pipeline = new Pipeline(set, input.languages);
  const known = new Set<string>(
    input.train ? set[task].labels : task === 'sentiment' ? SENTIMENT_LABELS : INTENT_LABELS,
  );
  const kept = input.data.filter((e) => known.has(e.label));
  const gold: string[] = [];
  const predicted: string[] = [];
  for (const e of kept) {
    const r = pipeline.classify(e.text, { keywords: false });
    gold.push(e.label);
    predicted.push(task === 'sentiment' ? r.sentiment.label : r.intent.label);
  }
  const metrics = computeMetrics(gold, predicted);
  return {
    task,
    n: metrics.n,
    skipped: input.data.length - kept.length,
    accuracy: metrics.accuracy,
    macro_f1: metrics.macro_f1,
    per_class: metrics.per_class,
    confusion: metrics.confusion,
    msgs_per_second: throughput(
      pipeline,
      input.data.map((e) => e.text),
      input.minBenchMs ?? 1000,
      input.now ?? performance.now.bind(performance),
    ),
  };
}

/** Messages per second of the full pipeline: one warm-up pass, then whole passes until `minMs` have elapsed. */
export function throughput(pipeline: Pipeline, texts: readonly string[], minMs: number, now: () => number): number {
  if (texts.length === 0) return 0;
  for (const t of texts) pipeline.classify(t, { keywords: false });
  const start = now();
  let n = 0;
  let elapsed = 0;
  do {
    for (const t of texts) pipeline.classify(t, { keywords: false });
    n += texts.length;
    elapsed = now() - start;
  } while (elapsed < minMs);
  return Math.round(n / (elapsed / 1000));
}

/** Human-readable form of the report. */
export function formatReport(r: EvaluationReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `task: ${r.task}   n: ${r.n}   skipped: ${r.skipped}`,
    `accuracy: ${pct(r.accuracy)}   macro-F1: ${r.macro_f1.toFixed(4)}   messages/s: ${r.msgs_per_second}`,
    '',
    `${'class'.padEnd(14)} ${'precision'.padStart(9)} ${'recall'.padStart(9)} ${'F1'.padStart(9)} ${'support'.padStart(8)}`,
  ];
  for (const [c, m] of Object.entries(r.per_class)) {
    lines.push(
      `${c.padEnd(14)} ${m.precision.toFixed(4).padStart(9)} ${m.recall.toFixed(4).padStart(9)} ${m.f1.toFixed(4).padStart(9)} ${String(m.support).padStart(8)}`,
    );
  }
  const cols = [...new Set(Object.values(r.confusion).flatMap((row) => Object.keys(row)))].sort();
  lines.push(
    '',
    `confusion (rows: gold, columns: predicted)`,
    `${''.padEnd(14)} ${cols.map((c) => c.slice(0, 8).padStart(8)).join(' ')}`,
  );
  for (const [g, row] of Object.entries(r.confusion)) {
    lines.push(`${g.padEnd(14)} ${cols.map((c) => String(row[c] ?? 0).padStart(8)).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
