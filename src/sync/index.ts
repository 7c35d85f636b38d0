/** Stage 1 (sync): Matrix room history into the history tables. Public face of src/sync. */
export { type ForgetCounts, forgetCustomerHistory } from './forget.ts';
export { barProgress, type ProgressReporter, silentProgress } from './progress.ts';
export { runSync, SyncIncompleteError, type SyncOptions, selectRooms } from './run.ts';
