/** Public face of the Matrix client layer: the only module that uses matrix-js-sdk. */
export {
  abortableSleep,
  type HttpMethod,
  MatrixApi,
  type MatrixApiOptions,
  type RequestOptions,
  type RetryPolicy,
  realSleep,
  toRemoteError,
} from './api.ts';
export { type CreateRoomRequest, GhostRegistrar, Intent, IntentFactory, txnIdFor } from './intent.ts';
export {
  buildDoublePuppetRegistration,
  buildRegistration,
  escapeRegex,
  newToken,
  type Registration,
  type RegistrationSettings,
  readRegistration,
  registrationSchema,
  registrationToYaml,
  writeRegistration,
} from './registration.ts';
export {
  type CheckOutcome,
  checkHomeserverOnce,
  type HomeserverCheckOptions,
  watchHomeserver,
} from './homeserver-check.ts';
