import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isHeldOut, loadTrainingData, PACKAGED_MODEL_DIR, trainAll } from '../src/nlp/index.ts';

describe('nlp train', () => {
  it('reproduces the committed models byte for byte (seeded, deterministic)', () => {
    const texts = trainAll(loadTrainingData().train);
    for (const [name, text] of Object.entries(texts)) {
      assert.equal(
        text,
        readFileSync(join(PACKAGED_MODEL_DIR, name), 'utf8'),
        `${name} differs from models/${name}: run nlp train`,
      );
    }
  });

  it('never trains on held-out items of the public sets', () => {
    const { train, heldOut } = loadTrainingData();
    assert.ok(heldOut.publicSentiment.length > 400);
    assert.ok(train.publicSentiment.every((e) => !isHeldOut(e.text)));
    assert.ok(heldOut.publicSentiment.every((e) => isHeldOut(e.text)));
  });

  it('applies the SHA-1 rule to the normalised text', () => {
    // sha1("a") = 86f7e437...: 0x86f7e437 = 2264392759, not divisible by 5.
    assert.equal(isHeldOut('a'), false);
    assert.equal(isHeldOut('  A '), false);
    const sample = Array.from({ length: 1000 }, (_, i) => `text ${i}`);
    const share = sample.filter(isHeldOut).length / sample.length;
    assert.ok(share > 0.15 && share < 0.25, String(share));
  });
});
