/**
 * Branded identifiers. Remote IDs are opaque to the core: only a connector creates and parses them
 * (from `WazoRoomUuid` and friends); the core stores and compares them as strings. Matrix IDs are
 * branded too so that a room ID can never be passed where an event ID is expected.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A room (chat, conversation) on the remote network, as the connector names it. */
export type RemoteRoomId = Brand<string, 'RemoteRoomId'>;
/** A user on the remote network, as the connector names it. */
export type RemoteUserId = Brand<string, 'RemoteUserId'>;
/** A message on the remote network, unique within the network (not only within a room). */
export type RemoteMessageId = Brand<string, 'RemoteMessageId'>;

export type MatrixRoomId = Brand<string, 'MatrixRoomId'>;
export type MatrixUserId = Brand<string, 'MatrixUserId'>;
export type MatrixEventId = Brand<string, 'MatrixEventId'>;

/** Connector-side constructors: the only sanctioned way to make remote IDs. */
export const remoteRoomId = (raw: string): RemoteRoomId => raw as RemoteRoomId;
export const remoteUserId = (raw: string): RemoteUserId => raw as RemoteUserId;
export const remoteMessageId = (raw: string): RemoteMessageId => raw as RemoteMessageId;

const USER_ID = /^@[^:\s]+:[A-Za-z0-9.-]+(:\d+)?$/;
const ROOM_ID = /^![^:\s]+:[A-Za-z0-9.-]+(:\d+)?$/;

/** Validates and brands a Matrix user ID; undefined when it is not one. */
export function parseMatrixUserId(raw: unknown): MatrixUserId | undefined {
  return typeof raw === 'string' && USER_ID.test(raw) ? (raw as MatrixUserId) : undefined;
}

/** Validates and brands a Matrix room ID; undefined when it is not one. */
export function parseMatrixRoomId(raw: unknown): MatrixRoomId | undefined {
  return typeof raw === 'string' && ROOM_ID.test(raw) ? (raw as MatrixRoomId) : undefined;
}

/** Brands a Matrix event ID (any non-empty string starting with `$`); undefined otherwise. */
export function parseMatrixEventId(raw: unknown): MatrixEventId | undefined {
  return typeof raw === 'string' && raw.startsWith('$') && raw.length > 1 ? (raw as MatrixEventId) : undefined;
}

/**
 * Identifies a portal: one remote room. Built by the connector. Kept as an object (not a bare ID) so a
 * receiver can be added later without changing every signature, as in mautrix bridgev2's `PortalKey`.
 */
export interface PortalKey {
  /** The remote room. */
  readonly id: RemoteRoomId;
}
