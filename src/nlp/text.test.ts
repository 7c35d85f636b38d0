import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseText, stripQuotes, tokenize } from './text.ts';

const words = (t: string) => tokenize(normaliseText(t)).words;
const negatedWords = (t: string) => {
  const tk = tokenize(normaliseText(t));
  return tk.words.filter((_, i) => tk.negated[i]);
};

describe('normaliseText', () => {
  it('maps emoji and emoticons to sentiment tokens', () => {
    assert.deepEqual(words('great 😍'), ['great', 'xemopos']);
    assert.deepEqual(words('still broken 😡'), ['still', 'broken', 'xemoneg']);
    assert.deepEqual(words('ok :)'), ['ok', 'xemopos']);
    assert.deepEqual(words('nope :('), ['nope', 'xemoneg']);
    assert.deepEqual(words('look 🦄'), ['look', 'xemoji']);
  });

  it('collapses elongations and flags them', () => {
    assert.deepEqual(words('soooo goooood'), ['soo', 'good', 'xelong']);
    assert.deepEqual(words('merciiiii'), ['mercii', 'xelong']);
  });

  it('masks URLs, e-mails, phone numbers, order numbers and amounts', () => {
    assert.deepEqual(words('see https://example.com/a?b=1 or www.shop.fr'), ['see', 'xurl', 'or', 'xurl']);
    assert.deepEqual(words('write to jane.doe@mail.com'), ['write', 'to', 'xemail']);
    assert.deepEqual(words('call me on +33 6 12 34 56 78'), ['call', 'me', 'on', 'xphone']);
    assert.deepEqual(words('order #48213 and A-77812'), ['order', 'xorder', 'and', 'xorder']);
    assert.deepEqual(words('charged 15€ twice'), ['charged', 'xmoney', 'twice']);
  });

  it('removes Matrix reply fallbacks and quoted lines', () => {
    const body = '> <@alice:example.org> my router is broken\n> since monday\n\nthanks it works now';
    assert.deepEqual(words(body), ['thanks', 'it', 'works', 'now']);
    assert.equal(stripQuotes('no quote here'), 'no quote here');
  });

  it('lower-cases, strips accents and splits French elisions', () => {
    assert.deepEqual(words("J'AI payé DÉJÀ"), ['j', 'ai', 'paye', 'deja']);
  });
});

describe('negation scope', () => {
  it('marks English negations, contractions included', () => {
    assert.deepEqual(negatedWords('this is not good at all'), ['good', 'at', 'all']);
    assert.ok(negatedWords('not good').includes('good'));
    assert.ok(negatedWords("it doesn't work").includes('work'));
    assert.ok(negatedWords('never again').includes('again'));
  });

  it('marks French negations, ne ... pas included', () => {
    assert.ok(negatedWords('pas terrible').includes('terrible'));
    assert.ok(negatedWords('je ne suis pas content').includes('content'));
    assert.ok(negatedWords("ça n'a jamais marché").includes('marche'));
  });

  it('ends the scope at punctuation and at "but"/"mais"', () => {
    assert.deepEqual(negatedWords('not bad, great service'), ['bad']);
    assert.deepEqual(negatedWords('pas cher mais nul'), ['cher']);
  });
});
