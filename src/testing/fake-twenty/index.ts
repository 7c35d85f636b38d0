export type { FakeObject, TwentyVersion } from './data-model.ts';
export { isUuidV1to5, type RecordRow } from './records.ts';
export { type FailureKind, FakeTwenty, type FakeTwentyOptions, type RecordedRequest } from './server.ts';
export { createVirtualClock, type VirtualClock } from './virtual-clock.ts';
