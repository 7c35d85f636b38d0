/** Classification metrics: accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix. Pure. */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  n: number;
  accuracy: number;
  /** Mean F1 over the classes present in the gold labels. */
  macro_f1: number;
  per_class: Record<string, ClassMetrics>;
  /** gold label → predicted label → count. */
  confusion: Record<string, Record<string, number>>;
}

export function computeMetrics(gold: readonly string[], predicted: readonly string[]): Metrics {
  const goldClasses = [...new Set(gold)].sort();
  const allClasses = [...new Set([...gold, ...predicted])].sort();
  const confusion: Record<string, Record<string, number>> = {};
  for (const g of goldClasses) confusion[g] = Object.fromEntries(allClasses.map((p) => [p, 0]));
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i] as string;
    const p = predicted[i] as string;
    const row = confusion[g] as Record<string, number>;
    row[p] = (row[p] ?? 0) + 1;
    if (g === p) correct++;
  }
  const per_class: Record<string, ClassMetrics> = {};
  for (const c of goldClasses) {
    const tp = confusion[c]?.[c] ?? 0;
    const support = Object.values(confusion[c] ?? {}).reduce((a, b) => a + b, 0);
    let predictedAs = 0;
    for (const g of goldClasses) predictedAs += confusion[g]?.[c] ?? 0;
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    per_class[c] = { precision: r4(precision), recall: r4(recall), f1: r4(f1), support };
  }
  const f1s = goldClasses.map((c) => (per_class[c] as ClassMetrics).f1);
  return {
    n: gold.length,
    accuracy: gold.length > 0 ? r4(correct / gold.length) : 0,
    macro_f1: f1s.length > 0 ? r4(f1s.reduce((a, b) => a + b, 0) / f1s.length) : 0,
    per_class,
    confusion,
  };
}

function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
