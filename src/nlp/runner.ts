/**
 * The classify stage: tags pending messages, then pending conversation segments, in batches of
 * `[nlp] batch_size`, one transaction per batch. Incremental by model version (and conversation revision).
 */
import { transaction } from '../db/index.ts';
import type { StageContext } from '../stage.ts';
import { type AggregateMessage, aggregateConversation } from './aggregate.ts';
import { loadModelSet, type ModelSet, resolveModelDir } from './model-files.ts';
import { Pipeline } from './pipeline.ts';
import {
  conversationMessages,
  corpusDocumentFrequencies,
  deleteOrphanConversationTerms,
  deleteOrphanMessageClassifications,
  type MessageCursor,
  pendingConversations,
  pendingMessages,
  roomLanguages,
  upsertConversationClassification,
  upsertConversationTerms,
  upsertMessageClassification,
} from './store.ts';

/** Conversations needed before keywords are ranked against the stored corpus rather than the training data. */
export const MIN_CORPUS = 30;

export interface ClassifyOptions {
  /** Classify everything again, whatever is stored. */
  reclassify: boolean;
  /** Models to use instead of loading `[nlp] model_dir` (tests). */
  models?: ModelSet;
}

export async function runClassify(ctx: StageContext, opts: ClassifyOptions): Promise<Record<string, number>> {
  const cfg = ctx.config.nlp;
  const models = opts.models ?? loadModelSet(resolveModelDir(cfg.model_dir));
  const pipeline = new Pipeline(models, cfg.languages);
  const version = models.version;
  const h = ctx.db;
  const log = ctx.log.child({ model_version: version });
  const counts = { messages: 0, conversations: 0, batches: 0, removed: 0, unsupported_language: 0 };
  const started = ctx.now();

  counts.removed = transaction(h, () => deleteOrphanMessageClassifications(h));
  const roomLang = roomLanguages(h, version);
  let cursor: MessageCursor | undefined;
  while (!ctx.signal.aborted) {
    const batch = pendingMessages(h, version, cursor, cfg.batch_size, opts.reclassify);
    if (batch.length === 0) break;
    const now = ctx.now();
    transaction(h, () => {
      for (const m of batch) {
        const r = pipeline.classify(m.body, { roomLanguage: roomLang.get(m.roomId) });
        if (r.languageUnsupported) counts.unsupported_language++;
        else if (!roomLang.has(m.roomId)) roomLang.set(m.roomId, r.language);
        upsertMessageClassification(h, {
          eventId: m.eventId,
          modelVersion: version,
          language: r.language,
          languageUnsupported: r.languageUnsupported,
          role: m.senderRole,
          sentimentLabel: r.sentiment.label,
          sentimentScore: r.sentiment.score,
          intentLabel: r.intent.label,
          intentConfidence: r.intent.confidence,
          intentRunnerUp: r.intent.runnerUp,
          intentRunnerUpConfidence: r.intent.runnerUpConfidence,
          keywords: JSON.stringify(r.keywords),
          classifiedAt: now,
        });
      }
    });
    counts.messages += batch.length;
    counts.batches++;
    const last = batch[batch.length - 1] as (typeof batch)[number];
    cursor = { ts: last.ts, eventId: last.eventId };
    log.debug({ batch: counts.batches, messages: batch.length }, 'message batch classified');
  }

  // Keywords are TF-IDF against the whole stored corpus (one document per conversation): first bring the
  // documents of the pending conversations up to date, then rank every pending conversation's terms.
  const analysed = new Map<string, AggregateMessage[]>();
  const analyse = (id: string, roomId: string): AggregateMessage[] =>
    conversationMessages(h, id, version).map((m) => {
      // Re-analysed for its terms; a message added since the message pass also gets its labels from here.
      const fresh = pipeline.classify(m.body, { roomLanguage: m.language ?? roomLang.get(roomId) });
      return {
        role: m.senderRole,
        language: m.language ?? fresh.language ?? 'en',
        sentimentScore: m.sentimentScore ?? fresh.sentiment.score ?? 0,
        intentLabel: m.intentLabel ?? fresh.intent.label ?? 'other',
        intentConfidence: m.intentConfidence ?? fresh.intent.confidence ?? 0,
        terms: fresh.terms,
      };
    });
  let docAfter = '';
  while (!ctx.signal.aborted) {
    const batch = pendingConversations(h, version, docAfter, cfg.batch_size, opts.reclassify);
    if (batch.length === 0) break;
    transaction(h, () => {
      for (const c of batch) {
        const msgs = analyse(c.id, c.roomId);
        // Kept for the scoring pass below when small enough; recomputed otherwise (bounded memory).
        if (analysed.size < 5000) analysed.set(c.id, msgs);
        upsertConversationTerms(h, c.id, [...new Set(msgs.flatMap((m) => m.terms.map(([stem]) => stem)))]);
      }
    });
    docAfter = (batch[batch.length - 1] as (typeof batch)[number]).id;
  }
  // Nothing pending: no conversation to rank, so the corpus is not read at all.
  const pending = docAfter !== '';
  if (pending) transaction(h, () => deleteOrphanConversationTerms(h));
  const corpus = pending ? corpusDocumentFrequencies(h) : { n: 0, df: new Map<string, number>() };
  // A handful of conversations is no corpus: until there are MIN_CORPUS, the training data's frequencies rank.
  const idf =
    corpus.n >= MIN_CORPUS
      ? (stem: string) => Math.log((1 + corpus.n) / (1 + (corpus.df.get(stem) ?? 0))) + 1
      : (stem: string) => pipeline.idf(stem);

  let afterId = '';
  while (!ctx.signal.aborted) {
    const batch = pendingConversations(h, version, afterId, cfg.batch_size, opts.reclassify);
    if (batch.length === 0) break;
    const now = ctx.now();
    transaction(h, () => {
      for (const c of batch) {
        const msgs = analysed.get(c.id) ?? analyse(c.id, c.roomId);
        const a = aggregateConversation(msgs, idf, roomLang.get(c.roomId) ?? cfg.languages[0] ?? 'en');
        upsertConversationClassification(h, {
          conversationId: c.id,
          modelVersion: version,
          conversationRevision: c.revision,
          sentimentLabel: a.sentimentLabel,
          sentimentScore: a.sentimentScore,
          sentimentTrend: a.sentimentTrend,
          intentLabel: a.intentLabel,
          intentConfidence: a.intentConfidence,
          intents: JSON.stringify(a.intents),
          keywords: JSON.stringify(a.keywords),
          language: a.language,
          agentSentimentScore: a.agentSentimentScore,
          classifiedAt: now,
        });
      }
    });
    counts.conversations += batch.length;
    counts.batches++;
    afterId = (batch[batch.length - 1] as (typeof batch)[number]).id;
  }
  log.info({ ...counts, duration_ms: ctx.now() - started }, 'classify run finished');
  return counts;
}
