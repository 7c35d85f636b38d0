/**
 * Owner: src/nlp (stage 2). Classification of each stored message and each conversation segment, per
 * model version. export only reads these tables. Column names are a contract: add, never rename.
 */
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** The labels classify writes and export maps to Twenty select options: one list for both stages. */
export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export const INTENT_LABELS = [
  'question',
  'complaint',
  'billing',
  'cancellation',
  'purchase',
  'technical',
  'praise',
  'greeting',
  'other',
] as const;

export const messageClassifications = sqliteTable(
  'message_classifications',
  {
    eventId: text('event_id').primaryKey(),
    modelVersion: text('model_version').notNull(),
    /** ISO 639-1 code. */
    language: text('language').notNull(),
    /** True when the language is outside `[nlp] languages` (English model used as best effort). */
    languageUnsupported: integer('language_unsupported', { mode: 'boolean' }).notNull().default(false),
    /** `customer` or `staff`: agent messages are classified for agent tone but kept apart. */
    role: text('role').notNull(),
    sentimentLabel: text('sentiment_label', { enum: SENTIMENT_LABELS }).notNull(),
    /** In [-1, 1]; near 0 means neutral. */
    sentimentScore: real('sentiment_score').notNull(),
    intentLabel: text('intent_label').notNull(),
    intentConfidence: real('intent_confidence').notNull(),
    intentRunnerUp: text('intent_runner_up'),
    intentRunnerUpConfidence: real('intent_runner_up_confidence'),
    /** JSON array of strings. */
    keywords: text('keywords').notNull().default('[]'),
    classifiedAt: integer('classified_at').notNull(),
  },
  (t) => [index('message_classifications_version').on(t.modelVersion)],
);

export const conversationClassifications = sqliteTable(
  'conversation_classifications',
  {
    conversationId: text('conversation_id').primaryKey(),
    modelVersion: text('model_version').notNull(),
    /** conversations.revision this classification was computed from. */
    conversationRevision: integer('conversation_revision').notNull(),
    sentimentLabel: text('sentiment_label', { enum: SENTIMENT_LABELS }).notNull(),
    sentimentScore: real('sentiment_score').notNull(),
    /** Second half minus first half of the customer's sentiment (positive = improving). */
    sentimentTrend: real('sentiment_trend'),
    intentLabel: text('intent_label').notNull(),
    intentConfidence: real('intent_confidence').notNull(),
    /** JSON array of every customer intent seen in the segment, most frequent first. */
    intents: text('intents').notNull().default('[]'),
    /** JSON array of keywords in their most frequent surface form. */
    keywords: text('keywords').notNull().default('[]'),
    language: text('language').notNull(),
    /** Mean sentiment of the staff messages (agent tone); null when staff did not speak. */
    agentSentimentScore: real('agent_sentiment_score'),
    classifiedAt: integer('classified_at').notNull(),
  },
  (t) => [index('conversation_classifications_version').on(t.modelVersion)],
);

/**
 * The stems of each conversation (its "document" for keyword TF-IDF): the document frequencies of the whole
 * stored corpus are computed from here, so keywords are ranked against the customer's own history.
 */
export const conversationTerms = sqliteTable('conversation_terms', {
  conversationId: text('conversation_id').primaryKey(),
  /** JSON array of distinct stems. */
  stems: text('stems').notNull(),
});
