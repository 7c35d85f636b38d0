export {
  applyMigrations,
  type DatabaseHandle,
  type Db,
  MIGRATIONS_FOLDER,
  type OpenOptions,
  openDatabase,
  type Schema,
  sqlitePath,
  transaction,
} from './client.ts';
export { startWalCheckpointer, type WalCheckpointer } from './checkpointer.ts';
export { flushGroupCommit, GroupCommit, groupCommit } from './group-commit.ts';
export { tuneConnection } from './pragmas.ts';
export {
  finishJobRun,
  type JobCounts,
  type JobRunRecord,
  type JobTrigger,
  lastJobRun,
  latestJobRuns,
  recordJobRun,
  startJobRun,
} from './job-runs.ts';
export { decryptSecret, type EncryptionKey, encryptSecret, parseEncryptionKey } from './token-crypto.ts';
export * as tables from './schema/index.ts';
