/** Stage 2 (classify): pure classifiers built on natural, the model files, evaluation, and the batch runner. */
export { type AggregateMessage, aggregateConversation, type ConversationAggregate } from './aggregate.ts';
export { DataError, type Example, isHeldOut, parseJsonl, readJsonl } from './dataset.ts';
export { type EvaluationReport, evaluate, formatReport, type Task } from './evaluate.ts';
export { computeMetrics, type Metrics } from './metrics.ts';
export { loadModelSet, type ModelSet, PACKAGED_MODEL_DIR, resolveModelDir } from './model-files.ts';
export { INTENT_LABELS, type MessageResult, Pipeline, SENTIMENT_LABELS } from './pipeline.ts';
export { type ClassifyOptions, runClassify } from './runner.ts';
export { forgetOrphanClassifications } from './store.ts';
export { normaliseText, tokenize } from './text.ts';
export { DATA_DIR, loadTrainingData, trainAll, writeModelFiles } from './train.ts';
