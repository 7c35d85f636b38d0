/**
 * A tiny in-memory remote network implementing the core's connector interfaces, for tests of the core.
 * Records what the core sends; failure switches make sends fail retryably or permanently.
 */
import {
  type BridgeHost,
  type EditingPuppet,
  type GhostInfo,
  type LoginConnector,
  type LoginProcess,
  type MatrixUserId,
  type NetworkConnector,
  type NetworkStatus,
  type OutgoingMessage,
  type PortalKey,
  type PuppetClient,
  type PuppetRecord,
  type RemoteUserId,
  type RoomInfo,
  remoteMessageId,
  remoteUserId,
  type SendResult,
} from '../../src/bridge/index.ts';
import { AppError, RemoteApiError } from '../../src/errors.ts';

export interface SentRemote {
  as: string;
  portal: string;
  msg: OutgoingMessage;
}

export class TestConnector implements NetworkConnector, LoginConnector {
  readonly network = 'testnet';
  readonly displayName = 'TestNet';
  host: BridgeHost | undefined;
  readonly rooms = new Map<string, RoomInfo>();
  readonly users = new Map<string, GhostInfo>();
  readonly sent: SentRemote[] = [];
  /** Edits sent (`sendEdit`), with the remote message they correct. */
  readonly edits: (SentRemote & { target: string })[] = [];
  /** Number of next sends that fail with a retryable 503. */
  failNext = 0;
  roomInfoCalls = 0;
  ghostInfoCalls = 0;
  #n = 0;
  readonly accounts = new Map<string, { password: string; name: string }>();

  async start(host: BridgeHost): Promise<void> {
    this.host = host;
  }
  async stop(): Promise<void> {}
  async ping(): Promise<NetworkStatus> {
    return { ok: true, detail: 'testnet reachable' };
  }
  async getRoomInfo(portal: PortalKey): Promise<RoomInfo> {
    this.roomInfoCalls++;
    const info = this.rooms.get(portal.id);
    if (!info) throw new RemoteApiError('testnet', 404, `no room ${portal.id}`);
    return info;
  }
  async getGhostInfo(user: RemoteUserId): Promise<GhostInfo> {
    this.ghostInfoCalls++;
    return this.users.get(user) ?? { name: `User ${user}` };
  }
  async connectPuppet(p: PuppetRecord): Promise<PuppetClient> {
    return this.#client(p.remoteUser);
  }
  relay(): PuppetClient | undefined {
    return this.#client(remoteUserId('relay'));
  }
  ghostLocalpart(user: RemoteUserId): string {
    return user.toLowerCase();
  }
  parseGhostLocalpart(suffix: string): RemoteUserId | undefined {
    return /^[a-z0-9]+$/.test(suffix) ? remoteUserId(suffix) : undefined;
  }
  createLogin(_user: MatrixUserId): LoginProcess {
    let username = '';
    const accounts = this.accounts;
    return {
      async start(args) {
        if (args[0]) {
          username = args[0];
          return { kind: 'input', prompt: 'Send your TestNet password', secret: true };
        }
        return { kind: 'input', prompt: 'Send your TestNet username' };
      },
      async submit(input) {
        if (!username) {
          username = input;
          return { kind: 'input', prompt: 'Send your TestNet password', secret: true };
        }
        const acct = accounts.get(username);
        if (!acct || acct.password !== input)
          throw new AppError('LOGIN_FAILED', 'wrong username or password', { status: 400 });
        return {
          kind: 'done',
          puppet: {
            remoteUser: remoteUserId(username),
            remoteName: `${acct.name} (${username})`,
            credentials: `enc:${username}`,
          },
          message: `Logged in as ${acct.name} (${username})`,
        };
      },
    };
  }
  async logout(_p: PuppetRecord): Promise<void> {}

  #client(as: RemoteUserId): EditingPuppet {
    return {
      remoteUser: as,
      send: async (portal, msg): Promise<SendResult> => {
        if (this.failNext > 0) {
          this.failNext--;
          throw new RemoteApiError('testnet', 503, 'testnet down');
        }
        this.sent.push({ as, portal: portal.id, msg });
        return { remoteId: remoteMessageId(`sent-${++this.#n}`) };
      },
      sendEdit: async (portal, target, msg): Promise<SendResult> => {
        this.edits.push({ as, portal: portal.id, msg, target });
        return { remoteId: remoteMessageId(`sent-${++this.#n}`) };
      },
    };
  }
}
