import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import { computeMetrics, parseJsonl } from '../src/nlp/index.ts';

const FIXTURE = new URL('./fixtures/nlp/tiny-sentiment.jsonl', import.meta.url).pathname;

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env: {}, interactive: false });
  return { code, out, err };
}

describe('computeMetrics', () => {
  it('gives hand-computed numbers; macro-F1 over gold classes; neutral counts wrong', () => {
    const m = computeMetrics(
      ['positive', 'positive', 'negative', 'negative'],
      ['positive', 'neutral', 'negative', 'positive'],
    );
    assert.equal(m.n, 4);
    assert.equal(m.accuracy, 0.5);
    // positive: P = 1/2, R = 1/2, F1 = 0.5; negative: P = 1, R = 1/2, F1 = 2/3.
    assert.deepEqual(m.per_class.positive, { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    assert.deepEqual(m.per_class.negative, { precision: 1, recall: 0.5, f1: 0.6667, support: 2 });
    assert.equal(m.macro_f1, 0.5834);
    assert.deepEqual(m.confusion.positive, { negative: 0, neutral: 1, positive: 1 });
    assert.equal(m.per_class.neutral, undefined);
  });
});

describe('nlp evaluate', () => {
  it('scores the shipped model on a tiny fixture (JSON keys, skipped labels, known numbers)', async () => {
    const r = await cli(['nlp', 'evaluate', '--task', 'sentiment', '--data', FIXTURE, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.deepEqual(Object.keys(report), [
      'task',
      'n',
      'skipped',
      'accuracy',
      'macro_f1',
      'per_class',
      'confusion',
      'msgs_per_second',
    ]);
    assert.equal(report.task, 'sentiment');
    assert.equal(report.n, 4);
    assert.equal(report.skipped, 1);
    assert.equal(report.accuracy, 1);
    assert.equal(report.macro_f1, 1);
    assert.deepEqual(report.confusion, {
      negative: { negative: 2, positive: 0 },
      positive: { negative: 0, positive: 2 },
    });
    assert.ok(report.msgs_per_second > 0);
  });

  it('trains a fresh model on --train with its own label set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nlp-eval-'));
    const rows = [
      ...['where is my parcel', 'track my package', 'parcel not arrived', 'delivery status please'].map((t) => ({
        text: t,
        label: 'track',
      })),
      ...['change my password', 'reset password link', 'forgot my password', 'password reset please'].map((t) => ({
        text: t,
        label: 'pwd',
      })),
    ];
    const file = join(dir, 'train.jsonl');
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const r = await cli(['nlp', 'evaluate', '--task', 'intent', '--data', file, '--train', file, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.equal(report.n, 8);
    assert.equal(report.skipped, 0);
    assert.deepEqual(Object.keys(report.per_class).sort(), ['pwd', 'track']);
    assert.equal(report.accuracy, 1);
  });

  it('rejects malformed JSONL with the line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nlp-eval-'));
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"text":"ok","label":"positive"}\n{"text":"no label"}\n');
    const r = await cli(['nlp', 'evaluate', '--task', 'sentiment', '--data', file]);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.jsonl:2: "label" must be a non-empty string/);
    assert.throws(() => parseJsonl('nope', 'x.jsonl'), /x\.jsonl:1: not valid JSON/);
  });

  it('prints a text table by default and checks --task', async () => {
    const r = await cli(['nlp', 'evaluate', '--task', 'sentiment', '--data', FIXTURE]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /accuracy: 100\.0%/);
    assert.match(r.out, /confusion/);
    assert.equal((await cli(['nlp', 'evaluate', '--task', 'mood', '--data', FIXTURE])).code, 2);
  });
});

describe('nlp classify', () => {
  it('prints one JSON object per line', async () => {
    const r = await cli(['nlp', 'classify', 'my internet is down again 😡\nmerci beaucoup !']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.deepEqual(Object.keys(lines[0]), ['language', 'sentiment', 'intent', 'keywords']);
    assert.deepEqual(Object.keys(lines[0].intent), ['label', 'confidence', 'runner_up']);
    assert.equal(lines[0].sentiment.label, 'negative');
    assert.equal(lines[1].language, 'fr');
  });
});
