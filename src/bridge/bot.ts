/**
 * The bridge bot's commands in management rooms (the user's DM with the bot): help, ping, login, logout,
 * login-matrix, logout-matrix, list, status, plus the connector's own. Every command gets exactly one reply; a
 * login in progress takes the user's next message as its answer. Messages carrying a secret (a password, an
 * access token) are redacted at once and emptied in the outbox.
 */
import { lastJobRun } from '../db/index.ts';
import { AppError, describeError } from '../errors.ts';
import {
  type BotCommand,
  isCommandConnector,
  isLoginConnector,
  type LoginProcess,
  type LoginStep,
  type PermissionLevel,
} from './connector.ts';
import type { CoreContext } from './context.ts';
import type { MatrixRoomId, MatrixUserId } from './ids.ts';
import { withoutToken } from './matrix-tokens.ts';
import { atLeast, permissionLevel } from './permissions.ts';

interface BuiltIn {
  name: string;
  summary: string;
  level: Exclude<PermissionLevel, 'none'>;
  /** The arguments are a secret: the message is redacted before anything else, whatever the reply. */
  secretArgs?: boolean;
  run(user: MatrixUserId, args: string[], roomId: MatrixRoomId, eventId: string): Promise<string>;
}

export interface BotDeps {
  /** Counts for `status`. */
  outboxDepth(): { matrix: number; remote: number; failed: number };
}

export class BridgeBot {
  readonly #c: CoreContext;
  readonly #deps: BotDeps;
  readonly #logins = new Map<string, { process: LoginProcess; secret: boolean }>();
  readonly #commands: BuiltIn[];

  constructor(c: CoreContext, deps: BotDeps) {
    this.#c = c;
    this.#deps = deps;
    const extra: BotCommand[] = c.connector && isCommandConnector(c.connector) ? [...c.connector.commands] : [];
    this.#commands = [
      { name: 'help', summary: 'this list', level: 'relay', run: async (u) => this.#help(u) },
      {
        name: 'ping',
        summary: 'check the connection to the remote network',
        level: 'user',
        run: async () => this.#ping(),
      },
      {
        name: 'login',
        summary: 'link your own remote account (double puppeting)',
        level: 'user',
        run: (u, a) => this.#login(u, a),
      },
      { name: 'logout', summary: 'unlink your remote account', level: 'user', run: (u) => this.#logout(u) },
      {
        name: 'login-matrix',
        summary:
          'login-matrix <access token>: your remote messages appear as your own Matrix account (double puppeting)',
        level: 'user',
        secretArgs: true,
        run: (u, a) => this.#loginMatrix(u, a),
      },
      {
        name: 'logout-matrix',
        summary: 'forget the access token given with login-matrix',
        level: 'user',
        run: async (u) => this.#logoutMatrix(u),
      },
      { name: 'list', summary: 'your bridged rooms', level: 'user', run: async (u) => this.#list(u) },
      {
        name: 'status',
        summary: 'bridge status: outbox depth, last sync, last export (admin)',
        level: 'admin',
        run: async () => this.#status(),
      },
      ...extra.map((x) => ({
        name: x.name,
        summary: x.summary,
        level: x.level,
        run: (user: MatrixUserId, args: string[], roomId: MatrixRoomId) => x.run({ user, args, roomId }),
      })),
    ];
  }

  level(user: string): PermissionLevel {
    return permissionLevel(this.#c.opts.permissions, user);
  }

  /** Handles one message in a management room; returns the one reply to send. */
  async onMessage(user: MatrixUserId, roomId: MatrixRoomId, eventId: string, text: string): Promise<string> {
    const pending = this.#logins.get(user);
    const trimmed = text.trim();
    if (pending && !/^(cancel|login)(\s|$)/i.test(trimmed)) {
      this.#logins.delete(user);
      let note = '';
      if (pending.secret) note = await this.#redactSecret(roomId, eventId);
      try {
        return this.#afterStep(user, pending.process, await pending.process.submit(trimmed)) + note;
      } catch (err) {
        return `Login failed: ${userMessage(err)}${note}`;
      }
    }
    if (pending && /^cancel(\s|$)/i.test(trimmed)) {
      this.#logins.delete(user);
      return 'Login cancelled.';
    }
    const [word = '', ...args] = trimmed.split(/\s+/);
    const name = word.toLowerCase().replace(/^!/, '');
    const cmd = this.#commands.find((c) => c.name === name);
    // A secret goes first, before any refusal: it must not stay in the room.
    const note = cmd?.secretArgs && args.length > 0 ? await this.#redactSecret(roomId, eventId) : '';
    const level = this.level(user);
    if (level === 'none')
      return `You are not allowed to use this bridge. Ask an administrator to add you to [bridge] permissions.${note}`;
    if (!cmd) return `Unknown command "${word.slice(0, 40)}". Send "help" for the list of commands.`;
    if (!atLeast(level, cmd.level))
      return `Sorry, "${cmd.name}" needs the ${cmd.level} permission level; you have ${level}.${note}`;
    try {
      return (await cmd.run(user, args, roomId, eventId)) + note;
    } catch (err) {
      this.#c.log.warn({ command: cmd.name, user, err: describeError(err) }, 'bot command failed');
      return `"${cmd.name}" failed: ${userMessage(err)}${note}`;
    }
  }

  #help(user: MatrixUserId): string {
    const c = this.#c;
    const level = this.level(user);
    const lines = this.#commands.map(
      (x) => `• ${x.name}: ${x.summary}${atLeast(level, x.level) ? '' : ` (needs ${x.level})`}`,
    );
    const head = c.connector
      ? `Commands of the ${c.connector.displayName} bridge:`
      : 'Commands (no remote network is configured, so ping, login, logout, login-matrix and list have nothing to act on):';
    return [head, ...lines].join('\n');
  }

  async #ping(): Promise<string> {
    const conn = this.#c.connector;
    if (!conn) return 'No remote network is configured.';
    const s = await conn.ping();
    return `${conn.displayName}: ${s.ok ? 'OK' : 'unreachable'}: ${s.detail}`;
  }

  async #login(user: MatrixUserId, args: string[]): Promise<string> {
    const conn = this.#c.connector;
    if (!conn) return 'No remote network is configured, so there is nothing to log in to.';
    if (!isLoginConnector(conn))
      return `${conn.displayName} does not support logging in with your own account; your messages go through the relay.`;
    const process = conn.createLogin(user);
    return this.#afterStep(user, process, await process.start(args));
  }

  #afterStep(user: MatrixUserId, process: LoginProcess, step: LoginStep): string {
    if (step.kind === 'input') {
      this.#logins.set(user, { process, secret: step.secret ?? false });
      return step.prompt;
    }
    const c = this.#c;
    const { remoteUser, remoteName, credentials } = step.puppet;
    c.store.puppetSave(
      { matrixUserId: user, remoteUserId: remoteUser, remoteName, credentials },
      c.connector!.network,
      c.now(),
    );
    c.log.info({ user, remote_user: step.puppet.remoteUser }, 'puppet logged in');
    return step.message;
  }

  /** Empties the outbox copy of a message with a secret and redacts it; a note for the reply when it stays. */
  async #redactSecret(roomId: string, eventId: string): Promise<string> {
    this.#c.store.outboxForgetContent(eventId);
    try {
      await this.#c.intents.bot.redact(roomId, eventId, `mcb.redact.${eventId}`, 'secret');
      return '';
    } catch (err) {
      this.#c.log.info(
        { room_id: roomId, event_id: eventId, err: describeError(err) },
        'could not redact a secret; asking the user',
      );
      return '\n(I could not remove your message with the secret: please delete it yourself.)';
    }
  }

  async #logout(user: MatrixUserId): Promise<string> {
    const c = this.#c;
    const conn = c.connector;
    const puppet = c.store.puppet(user);
    if (!conn || !puppet) return 'You are not logged in.';
    let note = '';
    if (isLoginConnector(conn)) {
      try {
        await conn.logout({
          matrixUser: user,
          remoteUser: puppet.remoteUserId as never,
          remoteName: puppet.remoteName,
          credentials: puppet.credentials,
        });
      } catch (err) {
        note = ` (revoking the remote session failed: ${userMessage(err)})`;
      }
    }
    c.store.puppetDelete(user);
    return `Logged out from ${puppet.remoteName}.${note}`;
  }

  async #loginMatrix(user: MatrixUserId, args: string[]): Promise<string> {
    const c = this.#c;
    const net = c.connector?.displayName ?? 'remote';
    if (args.length !== 1)
      return (
        'Usage: login-matrix <access token>. Copy the access token of a Matrix session of yours (Element: Settings → ' +
        'Help & About → Access Token) and send it alone after login-matrix; I check it, keep it encrypted and remove your message.'
      );
    const res = await c.matrixTokens.link(user, args[0]!);
    if (!res.ok) return `Not linked: ${res.reason} Nothing was stored.`;
    const unlinked = c.store.puppet(user) ? '' : ` It takes effect once you link your ${net} account with "login".`;
    return `Double puppeting is on: your ${net} messages now appear as your own Matrix account ${user}.${unlinked} Send "logout-matrix" to stop.`;
  }

  #logoutMatrix(user: MatrixUserId): string {
    const c = this.#c;
    const net = c.connector?.displayName ?? 'remote';
    if (!c.matrixTokens.forget(user))
      return 'You have not given me a Matrix access token (login-matrix), so there is nothing to forget.';
    return (
      `I forgot your Matrix access token: your ${net} messages now ${withoutToken(c)}. I did not log out that Matrix session; ` +
      'end it in your client (Element: Settings → Sessions) if you no longer use it.'
    );
  }

  #list(user: MatrixUserId): string {
    const c = this.#c;
    const mine = new Set(c.store.roomsWithFlag(`member:${user}`));
    const rows = c.store.portals().filter((p) => mine.has(p.matrixRoomId!));
    if (rows.length === 0) return 'You have no bridged rooms yet.';
    return [
      'Your bridged rooms:',
      ...rows.map(
        (p) => `• ${p.name ?? p.remoteRoomId} (${p.matrixRoomId})${p.broken ? ` (broken: ${p.broken})` : ''}`,
      ),
    ].join('\n');
  }

  #status(): string {
    const c = this.#c;
    const d = this.#deps.outboxDepth();
    const when = (job: string) => {
      const r = lastJobRun(c.store.handle.db, job);
      return r ? `${new Date(r.startedAt).toISOString()} (${r.status})` : 'never';
    };
    return [
      'Bridge status:',
      `• outbox: ${d.matrix} from Matrix, ${d.remote} to Matrix pending; ${d.failed} failed`,
      `• puppets: ${c.store.puppets().length}, portals: ${c.store.portals().length}`,
      `• last sync: ${when('sync')}`,
      `• last export: ${when('export')}`,
    ].join('\n');
  }
}

function userMessage(err: unknown): string {
  return err instanceof AppError ? err.message : 'an internal error happened (see the bridge logs)';
}
