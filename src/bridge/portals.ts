/**
 * Portals and ghosts on the Matrix side: creating the portal room (with `m.bridge` / `uk.half-shot.bridge`
 * state as in MSC2346 and the bot as admin), registering ghosts lazily, keeping their profile in sync only
 * when it changed, and making sure a ghost is in a room before it speaks.
 */
import type { GhostInfo, RoomInfo } from './connector.ts';
import type { IntentFactory } from '../matrix/index.ts';
import type { CoreContext } from './context.ts';
import type { MatrixUserId, PortalKey, RemoteUserId } from './ids.ts';
import type { GhostRow, PortalRow } from './store.ts';

export class PortalManager {
  readonly #c: CoreContext;
  /** `${roomId}|${userId}` known joined in this process (an invite/join after a restart is idempotent). */
  readonly #joined = new Set<string>();
  readonly #creating = new Map<string, Promise<PortalRow>>();
  readonly #ghosts = new Map<string, Promise<GhostRow>>();

  constructor(c: CoreContext) {
    this.#c = c;
  }

  /** The `m.bridge` content of a portal (also sent as `uk.half-shot.bridge`). */
  bridgeState(
    key: PortalKey,
    name: string | undefined,
    isDirect: boolean,
  ): { stateKey: string; content: Record<string, unknown> } {
    const c = this.#c;
    const network = c.connector!.network;
    return {
      stateKey: `${c.opts.domain}/${network}`,
      content: {
        bridgebot: c.botUserId,
        creator: c.botUserId,
        protocol: { id: network, displayname: c.connector!.displayName },
        channel: { id: key.id, ...(name ? { displayname: name } : {}) },
        ...(isDirect ? { 'com.beeper.room_type': 'dm', 'com.beeper.room_type.v2': 'dm' } : {}),
      },
    };
  }

  /** Finds or creates the portal's Matrix room. Concurrent calls for one portal share one creation. */
  ensurePortal(key: PortalKey): Promise<PortalRow> {
    const existing = this.#c.store.portalByRemote(key.id);
    if (existing?.matrixRoomId) return Promise.resolve(existing);
    const running = this.#creating.get(key.id);
    if (running) return running;
    const p = this.#create(key).finally(() => this.#creating.delete(key.id));
    this.#creating.set(key.id, p);
    return p;
  }

  async #create(key: PortalKey): Promise<PortalRow> {
    const c = this.#c;
    const connector = c.connector!;
    const info: RoomInfo = await connector.getRoomInfo(key);
    const ghostIds: MatrixUserId[] = [];
    const names: string[] = [];
    for (const m of info.members) {
      const g = await this.ensureGhost(m);
      ghostIds.push(g.userId as MatrixUserId);
      if (g.displayName) names.push(g.displayName);
    }
    const name = info.name ?? (names.length > 0 ? names.join(', ') : undefined);
    const invite = [
      ...new Set(
        info.members
          .map((m) => c.store.puppets().find((p) => p.remoteUserId === m && !p.loggedOut)?.matrixUserId)
          .filter((u): u is string => !!u),
      ),
    ];
    const bridge = this.bridgeState(key, name, info.isDirect ?? false);
    const pending: PortalRow = {
      remoteRoomId: key.id,
      network: connector.network,
      matrixRoomId: null,
      name: name ?? null,
      topic: info.topic ?? null,
      isDirect: info.isDirect ?? false,
      fixedMembers: info.fixedMembers ?? false,
      broken: null,
    };
    // A row without a Matrix room means an earlier creation may have happened but was not recorded (crash
    // between createRoom and the commit below): adopt that room instead of creating a second one.
    const adopted = c.store.portalByRemote(key.id) ? await this.#findCreatedRoom(key, bridge.stateKey) : undefined;
    if (!adopted) c.store.portalUpsert(pending, c.now());
    const roomId =
      adopted ??
      (await c.intents.bot.createRoom({
        preset: 'private_chat',
        visibility: 'private',
        ...(name ? { name } : {}),
        ...(info.topic ? { topic: info.topic } : {}),
        invite: [...invite, ...ghostIds],
        is_direct: info.isDirect ?? false,
        // No power_level_content_override: the bot creates the room, so it is admin already (PL 100 by
        // default in room versions 1-11, infinite in 12+), and from v12 on a creator "cannot be specified
        // in the `users` field of `m.room.power_levels`" (spec v1.16+, POST /createRoom; MSC4289): listing
        // it would make the creation fail on homeservers whose default room version is 12.
        initial_state: [
          { type: 'm.bridge', state_key: bridge.stateKey, content: bridge.content },
          { type: 'uk.half-shot.bridge', state_key: bridge.stateKey, content: bridge.content },
        ],
      }));
    if (adopted) c.log.warn({ portal: key.id, room_id: adopted }, 'adopted the room of an unfinished portal creation');
    const now = c.now();
    const row: PortalRow = { ...pending, matrixRoomId: roomId };
    c.store.tx(() => {
      c.store.portalUpsert(row, now);
      for (const u of invite) c.store.flagOnce(roomId, `member:${u}`, now);
    });
    c.log.info({ portal: key.id, room_id: roomId, invited: invite.length }, 'portal created');
    // Ghosts were invited with the room (an adopted room may lack the invites); they join right away to speak.
    for (const g of ghostIds) await this.ensureJoined(roomId, g, !adopted);
    if (adopted) for (const u of invite) await c.intents.bot.invite(roomId, u);
    return row;
  }

  /**
   * Maps a Matrix room that a user made (a DM or group with ghosts, issue §6) to the remote room their puppet
   * just opened: the bot joins (invited by `host`, a ghost already in the room, since the user's room does not
   * give the bot a say), the remote members' ghosts join with their profiles, and the portal row is written.
   * `self` is the user's own remote account: it has no ghost in their room. `invited`: ghosts the user invited.
   */
  async adoptUserRoom(
    key: PortalKey,
    roomId: string,
    info: RoomInfo,
    user: MatrixUserId,
    self: RemoteUserId,
    host: string,
    invited: ReadonlySet<string>,
  ): Promise<PortalRow> {
    const c = this.#c;
    await c.intents.intent(host).invite(roomId, c.botUserId);
    await c.intents.bot.join(roomId);
    const names: string[] = [];
    for (const m of info.members) {
      if (m === self) continue;
      const g = await this.ensureGhost(m);
      if (g.displayName) names.push(g.displayName);
      await this.ensureJoined(roomId, g.userId, invited.has(g.userId));
    }
    const name = info.name ?? (names.length > 0 ? names.join(', ') : undefined);
    const row: PortalRow = {
      remoteRoomId: key.id,
      network: c.connector!.network,
      matrixRoomId: roomId,
      name: name ?? null,
      topic: info.topic ?? null,
      isDirect: info.isDirect ?? false,
      fixedMembers: info.fixedMembers ?? false,
      broken: null,
    };
    const now = c.now();
    c.store.tx(() => {
      c.store.portalUpsert(row, now);
      c.store.flagOnce(roomId, `member:${user}`, now);
    });
    // The user owns the room, so the bot may lack the power to set state: `m.bridge` is informative only.
    const bridge = this.bridgeState(key, name, row.isDirect);
    try {
      await c.intents.bot.sendState(roomId, 'm.bridge', bridge.stateKey, bridge.content);
    } catch (err) {
      c.log.debug({ room_id: roomId, err: (err as Error)?.message }, 'no m.bridge state in a user-made portal');
    }
    c.log.info({ portal: key.id, room_id: roomId, user }, 'portal mapped to a room made on Matrix');
    return row;
  }

  /** Registers the ghost if needed and syncs its profile (only fields that changed). */
  ensureGhost(remote: RemoteUserId, fresh?: GhostInfo): Promise<GhostRow> {
    const key = remote as string;
    const running = this.#ghosts.get(key);
    if (running && !fresh) return running;
    const p = this.#ensureGhost(remote, fresh).finally(() => {
      if (this.#ghosts.get(key) === p) this.#ghosts.delete(key);
    });
    this.#ghosts.set(key, p);
    return p;
  }

  async #ensureGhost(remote: RemoteUserId, fresh?: GhostInfo): Promise<GhostRow> {
    const c = this.#c;
    const userId = c.ghostUserId(remote);
    const stored = c.store.ghost(remote);
    const intent = c.intents.intent(userId);
    if (stored && !fresh) {
      c.intents.registrar.seed([userId]);
      return stored;
    }
    const info = fresh ?? (await c.connector!.getGhostInfo(remote));
    await intent.ensureRegistered();
    const row: GhostRow = stored ?? {
      remoteUserId: remote,
      userId,
      displayName: null,
      avatarMxc: null,
      email: null,
      phone: null,
    };
    const next: GhostRow = {
      ...row,
      displayName: info.name !== undefined ? fitDisplayName(info.name) : row.displayName,
      avatarMxc: info.avatarMxc ?? row.avatarMxc,
      email: info.email ?? row.email,
      phone: info.phone ?? row.phone,
    };
    if (next.displayName && next.displayName !== row.displayName) await intent.setDisplayName(next.displayName);
    if (next.avatarMxc && next.avatarMxc !== row.avatarMxc) await intent.setAvatarUrl(next.avatarMxc);
    if ((next.email !== row.email || next.phone !== row.phone) && (next.email || next.phone)) {
      await this.#publishIdentifiers(userId, next);
    }
    c.store.ghostUpsert(next, c.connector!.network, c.now());
    return next;
  }

  /** The bot's room whose `m.bridge` names this remote room, among rooms not mapped to a portal yet. */
  async #findCreatedRoom(key: PortalKey, stateKey: string): Promise<string | undefined> {
    const c = this.#c;
    for (const roomId of await c.intents.bot.joinedRooms()) {
      if (c.store.portalByRoom(roomId)) continue;
      const content = await c.intents.bot.stateEvent(roomId, 'm.bridge', stateKey);
      const channel = content?.channel as { id?: unknown } | undefined;
      if (channel?.id === key.id && content?.bridgebot === c.botUserId) return roomId;
    }
    return undefined;
  }

  /**
   * Publishes the ghost's phone and e-mail as the `com.beeper.bridge.identifiers` profile field (the
   * convention mautrix bridges use), so that readers of the room history, such as our sync job, can tell who
   * the remote user is without access to the remote network.
   */
  async #publishIdentifiers(userId: string, g: GhostRow): Promise<void> {
    const ids = [...(g.phone ? [`tel:${g.phone}`] : []), ...(g.email ? [`mailto:${g.email}`] : [])];
    try {
      await this.#c.intents.intent(userId).setProfileField('com.beeper.bridge.identifiers', ids);
    } catch (err) {
      // Homeservers before Matrix v1.16 have no custom profile fields: the identifiers are an enrichment,
      // the ghost works without them.
      this.#c.log.warn(
        { err, user_id: userId },
        'could not publish ghost identifiers (custom profile fields unsupported?)',
      );
    }
  }

  /** Makes `userId` a joined member: the bot invites (already-joined is fine), then the user joins. */
  async ensureJoined(roomId: string, userId: string, invited = false, via?: IntentFactory): Promise<void> {
    const k = `${roomId}|${userId}`;
    if (this.#joined.has(k)) return;
    const c = this.#c;
    if (!invited) await c.intents.bot.invite(roomId, userId);
    await (via ?? c.intents).intent(userId).join(roomId);
    this.#joined.add(k);
  }

  /** Forgets cached membership (after the homeserver said the user is not in the room). */
  forgetJoined(roomId: string, userId: string): void {
    this.#joined.delete(`${roomId}|${userId}`);
  }

  /** Applies changed room metadata to an existing portal. */
  async updateRoomInfo(key: PortalKey, info: Partial<RoomInfo>): Promise<void> {
    const c = this.#c;
    const row = c.store.portalByRemote(key.id);
    if (!row?.matrixRoomId) return;
    if (info.name !== undefined && info.name !== row.name) {
      await c.intents.bot.sendState(row.matrixRoomId, 'm.room.name', '', { name: info.name });
      const bridge = this.bridgeState(key, info.name, row.isDirect);
      await c.intents.bot.sendState(row.matrixRoomId, 'm.bridge', bridge.stateKey, bridge.content);
      await c.intents.bot.sendState(row.matrixRoomId, 'uk.half-shot.bridge', bridge.stateKey, bridge.content);
    }
    if (info.topic !== undefined && info.topic !== row.topic) {
      await c.intents.bot.sendState(row.matrixRoomId, 'm.room.topic', '', { topic: info.topic });
    }
    c.store.portalUpsert({ ...row, name: info.name ?? row.name, topic: info.topic ?? row.topic }, c.now());
  }
}

/** Synapse's MAX_DISPLAYNAME_LEN (code points): a longer name is refused with 400. */
const MAX_DISPLAYNAME = 256;

/** A remote name as a Matrix display name: shortened with an ellipsis past what Synapse accepts. */
export function fitDisplayName(name: string): string {
  const chars = [...name];
  return chars.length <= MAX_DISPLAYNAME ? name : `${chars.slice(0, MAX_DISPLAYNAME - 1).join('')}…`;
}
