/**
 * What the parts of the core share: options, the store, the intents and the connector, plus a few helpers
 * for the identities the bridge owns. Built once by {@link Bridge}.
 */
import type { Logger } from '../log.ts';
import type { IntentFactory } from '../matrix/index.ts';
import type { NetworkConnector, PuppetClient } from './connector.ts';
import type { MatrixUserId, RemoteUserId } from './ids.ts';
import type { MatrixTokens } from './matrix-tokens.ts';
import type { BridgeStore } from './store.ts';

export interface BridgeOptions {
  /** Homeserver server name (after ":" in MXIDs). */
  domain: string;
  appserviceId: string;
  botLocalpart: string;
  ghostPrefix: string;
  /** The registration's hs_token: the transaction dedupe key is its hash. */
  hsToken: string;
  permissions: Readonly<Record<string, string>>;
  /** `[bridge] relay`: unlinked users' messages go through the relay account. */
  relay: boolean;
  /** `[bridge] reactions`. */
  reactions: boolean;
  /** `[bridge] public_media_url`: base used to give the remote side links to Matrix media. */
  publicMediaUrl: string;
  /** Bot display name set at start. */
  botDisplayName?: string;
}

/**
 * Content key on events the bridge sends as a real Matrix user (double puppeting, either method), as mautrix bridges do
 * with `fi.mau.double_puppet_source`: such events coming back in a transaction are ours, never bridged again.
 */
export const DOUBLE_PUPPET_KEY = 'fi.mau.double_puppet_source';
export const DOUBLE_PUPPET_SOURCE = 'matrix-crm-bridge';

export interface CoreContext {
  readonly opts: BridgeOptions;
  readonly store: BridgeStore;
  readonly intents: IntentFactory;
  /**
   * Intents for real Matrix users through the second, non-exclusive double-puppeting registration
   * (`[bridge.double_puppet]`); undefined when double puppeting is off.
   */
  readonly doublePuppet: IntentFactory | undefined;
  /** Users' own access tokens (`login-matrix`): the first double-puppeting method, before {@link doublePuppet}. */
  readonly matrixTokens: MatrixTokens;
  readonly connector: NetworkConnector | undefined;
  readonly log: Logger;
  readonly now: () => number;
  readonly botUserId: MatrixUserId;
  /** `@<prefix><suffix>:<domain>` for a remote user (needs a connector). */
  ghostUserId(remote: RemoteUserId): MatrixUserId;
  /** The remote user behind one of our ghost MXIDs, if it is one. */
  remoteForGhost(userId: string): RemoteUserId | undefined;
  /** True for the bot and every MXID in the ghost namespace (echo suppression). */
  isOurs(userId: string): boolean;
  /** The connected client of a logged-in puppet, if any. */
  puppetClient(user: MatrixUserId): Promise<PuppetClient | undefined>;
  /** One notice from the bot (txnId derived from `key` when given); failures are logged, never thrown. */
  notice(roomId: string, text: string, key?: string): Promise<void>;
}
