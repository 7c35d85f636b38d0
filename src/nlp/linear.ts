/**
 * Multinomial logistic regression (softmax) trained with seeded SGD and L2 regularisation, with the weights of
 * the last epochs averaged (a cheap form of averaged SGD that steadies the result). Deterministic for a given
 * seed and input order. Pure.
 */
import type { SparseVector } from './features.ts';
import { createRng } from '../rng.ts';

export interface TrainOptions {
  epochs: number;
  /** L2 strength. */
  lambda: number;
  /** Initial learning rate; decays as lr0 / (1 + lr0 * lambda * t). */
  lr0: number;
  seed: number;
  /** Weight each class inversely to its frequency, so small classes are not drowned. */
  balanced: boolean;
  /** Per-example weights (default 1). */
  sampleWeights?: readonly number[];
}

export interface LinearWeights {
  /** dim × classes, row-major by feature. */
  weights: Float64Array;
  bias: Float64Array;
}

/** Fills `out` with class probabilities for `x`. */
export function predictProba(w: LinearWeights, classes: number, x: SparseVector, out: Float64Array): void {
  const { weights, bias } = w;
  for (let k = 0; k < classes; k++) out[k] = bias[k] as number;
  const { idx, val } = x;
  for (let i = 0; i < idx.length; i++) {
    const base = (idx[i] as number) * classes;
    const v = val[i] as number;
    for (let k = 0; k < classes; k++) out[k] = (out[k] as number) + (weights[base + k] as number) * v;
  }
  softmaxInPlace(out, classes);
}

function softmaxInPlace(z: Float64Array, classes: number): void {
  let max = -Infinity;
  for (let k = 0; k < classes; k++) if ((z[k] as number) > max) max = z[k] as number;
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    const e = Math.exp((z[k] as number) - max);
    z[k] = e;
    sum += e;
  }
  for (let k = 0; k < classes; k++) z[k] = (z[k] as number) / sum;
}

export function trainSoftmax(
  xs: readonly SparseVector[],
  ys: readonly number[],
  classes: number,
  dim: number,
  opts: TrainOptions,
): LinearWeights {
  const v = new Float64Array(dim * classes);
  const bias = new Float64Array(classes);
  const avgW = new Float64Array(dim * classes);
  const avgB = new Float64Array(classes);
  let averaged = 0;
  let scale = 1;
  const counts = new Array<number>(classes).fill(0);
  for (const y of ys) counts[y] = (counts[y] as number) + 1;
  const classWeight = counts.map((c) => (opts.balanced && c > 0 ? ys.length / (classes * c) : 1));
  const rng = createRng(opts.seed);
  const order = ys.map((_, i) => i);
  const p = new Float64Array(classes);
  let t = 0;
  const averageFrom = Math.floor(opts.epochs / 2);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const tmp = order[i] as number;
      order[i] = order[j] as number;
      order[j] = tmp;
    }
    for (const n of order) {
      const x = xs[n] as SparseVector;
      const y = ys[n] as number;
      const lr = opts.lr0 / (1 + opts.lr0 * opts.lambda * t);
      t++;
      // Scores with the current (scaled) weights.
      for (let k = 0; k < classes; k++) p[k] = bias[k] as number;
      for (let i = 0; i < x.idx.length; i++) {
        const base = (x.idx[i] as number) * classes;
        const xv = (x.val[i] as number) * scale;
        for (let k = 0; k < classes; k++) p[k] = (p[k] as number) + (v[base + k] as number) * xv;
      }
      softmaxInPlace(p, classes);
      scale *= 1 - lr * opts.lambda;
      const ew = (classWeight[y] as number) * (opts.sampleWeights?.[n] ?? 1);
      const step = (lr * ew) / scale;
      for (let i = 0; i < x.idx.length; i++) {
        const base = (x.idx[i] as number) * classes;
        const xv = x.val[i] as number;
        for (let k = 0; k < classes; k++) {
          const g = (p[k] as number) - (k === y ? 1 : 0);
          v[base + k] = (v[base + k] as number) - step * g * xv;
        }
      }
      for (let k = 0; k < classes; k++)
        bias[k] = (bias[k] as number) - lr * ew * ((p[k] as number) - (k === y ? 1 : 0));
      if (scale < 1e-6) {
        for (let j = 0; j < v.length; j++) v[j] = (v[j] as number) * scale;
        scale = 1;
      }
    }
    if (epoch >= averageFrom) {
      for (let j = 0; j < v.length; j++) avgW[j] = (avgW[j] as number) + (v[j] as number) * scale;
      for (let k = 0; k < classes; k++) avgB[k] = (avgB[k] as number) + (bias[k] as number);
      averaged++;
    }
  }
  for (let j = 0; j < avgW.length; j++) avgW[j] = (avgW[j] as number) / averaged;
  for (let k = 0; k < classes; k++) avgB[k] = (avgB[k] as number) / averaged;
  return { weights: avgW, bias: avgB };
}
