/**
 * Clear-cut sentences per label and language that the shipped models must get right. Written apart from the
 * training data (a test checks that none of them occurs in data/nlp), so they measure generalisation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DATA_DIR, loadModelSet, PACKAGED_MODEL_DIR, Pipeline } from '../src/nlp/index.ts';

const pipeline = new Pipeline(loadModelSet(PACKAGED_MODEL_DIR), ['en', 'fr']);

const SENTIMENT: Record<string, Record<string, string[]>> = {
  en: {
    positive: [
      'You people are fantastic, thank you so much!',
      'Really pleased, the engineer sorted everything quickly 👍',
    ],
    negative: [
      'This is a total disaster, nothing works and nobody helps me',
      'I am so angry, third week without internet 😡',
    ],
    neutral: ['What time does the shop in Leeds open?', 'I placed the order on Tuesday'],
  },
  fr: {
    positive: [
      'Franchement super boulot, merci à toute l’équipe',
      'Génial, tout fonctionne parfaitement maintenant 😊',
    ],
    negative: [
      'Service lamentable, ça fait trois semaines que j’attends',
      'Je suis furieux, encore une coupure ce matin 😡',
    ],
    neutral: ['À quelle heure ouvre la boutique de Nantes ?', 'J’ai passé la commande mardi'],
  },
};

const INTENT: Record<string, Record<string, string>> = {
  en: {
    question: 'Do you deliver parcels to Scotland on weekends?',
    complaint: 'I am really unhappy with the way your staff treated me',
    billing: 'I was billed twice for the same invoice last month',
    cancellation: 'Please terminate my contract, I do not want it anymore',
    purchase: 'How much would the unlimited plan cost me per month?',
    technical: 'The wifi keeps disconnecting every ten minutes',
    praise: 'Thanks a lot, your colleague was wonderful',
    greeting: 'Good morning!',
    other: 'Can I talk to a real person please',
  },
  fr: {
    question: 'Vous livrez en Corse le samedi ?',
    complaint: 'Je suis vraiment mécontent de la façon dont on m’a parlé',
    billing: 'On m’a facturé deux fois le même mois',
    cancellation: 'Je souhaite résilier mon abonnement dès que possible',
    purchase: 'Combien coûte le forfait illimité par mois ?',
    technical: 'La connexion wifi coupe toutes les dix minutes',
    praise: 'Merci beaucoup, votre collègue a été adorable',
    greeting: 'Bonsoir !',
    other: 'Je voudrais parler à un conseiller humain',
  },
};

const trainingTexts = new Set(
  ['sentiment.jsonl', 'intent.jsonl'].flatMap((f) =>
    readFileSync(`${DATA_DIR}${f}`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { text: string }).text.toLowerCase()),
  ),
);

describe('shipped models on clear-cut sentences', () => {
  it('none of these sentences is in the training data', () => {
    const all = [
      ...Object.values(SENTIMENT).flatMap((l) => Object.values(l).flat()),
      ...Object.values(INTENT).flatMap(Object.values),
    ];
    for (const t of all) assert.ok(!trainingTexts.has(t.toLowerCase()), t);
  });

  for (const [lang, byLabel] of Object.entries(SENTIMENT)) {
    for (const [label, texts] of Object.entries(byLabel)) {
      for (const text of texts) {
        it(`sentiment ${lang} ${label}: ${text}`, () => {
          const r = pipeline.classify(text);
          assert.equal(r.sentiment.label, label);
          assert.equal(r.language, lang);
          if (label === 'positive') assert.ok(r.sentiment.score > 0);
          if (label === 'negative') assert.ok(r.sentiment.score < 0);
        });
      }
    }
  }

  for (const [lang, byLabel] of Object.entries(INTENT)) {
    for (const [label, text] of Object.entries(byLabel)) {
      it(`intent ${lang} ${label}: ${text}`, () => {
        const r = pipeline.classify(text);
        assert.equal(r.intent.label, label);
        assert.notEqual(r.intent.runnerUp, label);
        assert.ok(r.intent.confidence > 0 && r.intent.confidence <= 1);
      });
    }
  }
});

describe('language detection on short texts', () => {
  const cases: [string, string][] = [
    ['merci', 'fr'],
    ['thanks', 'en'],
    ['bonjour', 'fr'],
    ['hello there', 'en'],
    ['ça marche pas', 'fr'],
    ['it does not work', 'en'],
    ['jsuis dispo demain', 'fr'],
    ['need help asap', 'en'],
    ['toujours rien reçu', 'fr'],
    ['still nothing received', 'en'],
  ];
  for (const [text, lang] of cases) {
    it(`${text} → ${lang}`, () => assert.equal(pipeline.classify(text).language, lang));
  }

  it("falls back to the room's language when a text says nothing", () => {
    assert.equal(pipeline.classify('ok 👍', { roomLanguage: 'fr' }).language, 'fr');
    assert.equal(pipeline.classify('ok 👍', { roomLanguage: 'en' }).language, 'en');
  });

  it('flags other languages as unsupported (best effort)', () => {
    const r = pipeline.classify(
      'Ich möchte bitte mein Abonnement kündigen, das Internet funktioniert seit Tagen nicht',
    );
    assert.equal(r.language, 'de');
    assert.equal(r.languageUnsupported, true);
  });

  it('keywords are content words in their surface form', () => {
    const r = pipeline.classify('my router keeps rebooting, the router light is red');
    assert.ok(r.keywords.includes('router'));
    assert.ok(!r.keywords.includes('the'));
  });
});
