/**
 * Public face of the bridge core. Connectors (src/wazo) import only from here: the connector interfaces,
 * the branded IDs and the errors that steer the core. The composition root (src/cli) also gets the core
 * itself from here.
 */
export {
  type BotCommand,
  type BridgeHost,
  type CommandConnector,
  type DmCreatingPuppet,
  type EditingPuppet,
  type GhostInfo,
  isCommandConnector,
  isDmCreatingPuppet,
  isEditingPuppet,
  isLoginConnector,
  isReactingPuppet,
  isRedactingPuppet,
  type LoginConnector,
  type LoginProcess,
  type LoginStep,
  type NetworkConnector,
  type NetworkStatus,
  type NeutralMedia,
  type NeutralMessage,
  type OutgoingMessage,
  type PermissionLevel,
  PortalGoneError,
  type PuppetClient,
  PuppetLoggedOutError,
  type PuppetRecord,
  type ReactingPuppet,
  type RedactingPuppet,
  type RemoteEvent,
  type RemoteSender,
  type RoomInfo,
  type SendResult,
} from './connector.ts';
export {
  type MatrixEventId,
  type MatrixRoomId,
  type MatrixUserId,
  type PortalKey,
  parseMatrixEventId,
  parseMatrixRoomId,
  parseMatrixUserId,
  type RemoteMessageId,
  type RemoteRoomId,
  type RemoteUserId,
  remoteMessageId,
  remoteRoomId,
  remoteUserId,
} from './ids.ts';
export { Bridge, type BridgeDeps } from './bridge.ts';
export type { BridgeOptions } from './context.ts';
export { atLeast, permissionLevel } from './permissions.ts';
