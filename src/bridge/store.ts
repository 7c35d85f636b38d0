/**
 * Repository of the bridge tables (src/db/schema/bridge.ts). The only code that writes them. Hot paths
 * (transactions, outbox) use prepared statements; everything is synchronous (better-sqlite3). The hot writes
 * (outbox rows and done marks, message map, transaction records) join the connection's group commit and are
 * durable once {@link BridgeStore.durable} resolves; every other write is committed when its method returns.
 */
import type { Statement } from 'better-sqlite3';
import { type DatabaseHandle, type GroupCommit, groupCommit } from '../db/index.ts';

export interface PortalRow {
  remoteRoomId: string;
  network: string;
  matrixRoomId: string | null;
  name: string | null;
  topic: string | null;
  isDirect: boolean;
  fixedMembers: boolean;
  broken: string | null;
}

export interface GhostRow {
  remoteUserId: string;
  userId: string;
  displayName: string | null;
  avatarMxc: string | null;
  email: string | null;
  phone: string | null;
}

export interface PuppetRow {
  matrixUserId: string;
  remoteUserId: string;
  remoteName: string;
  credentials: string;
  loggedOut: string | null;
}

export interface OutboxRow {
  id: number;
  lane: 'matrix' | 'remote';
  queueKey: string;
  dedupeKey: string;
  payload: string;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
}

type Row = Record<string, unknown>;

/** The outbox dedupe key of an event pushed by the homeserver. */
export const matrixEventKey = (eventId: string): string => `m:${eventId}`;
const bool = (v: unknown) => v === 1 || v === true;

export class BridgeStore {
  readonly handle: DatabaseHandle;
  readonly #s: Record<string, Statement>;
  readonly #g: GroupCommit;

  constructor(handle: DatabaseHandle) {
    this.handle = handle;
    this.#g = groupCommit(handle.sqlite);
    const p = (sql: string) => handle.sqlite.prepare(sql);
    this.#s = {
      txnSeen: p('select 1 from appservice_txns where token_hash = ? and txn_id = ?'),
      txnInsert: p('insert into appservice_txns (token_hash, txn_id, events, received_at) values (?, ?, ?, ?)'),
      outboxInsert: p(
        "insert into outbox (lane, queue_key, dedupe_key, payload, state, attempts, next_attempt_at, created_at) values (?, ?, ?, ?, 'pending', 0, 0, ?) on conflict (dedupe_key) do nothing",
      ),
      outboxHas: p('select 1 from outbox where dedupe_key = ?'),
      outboxForgetContent: p(
        "update outbox set payload = json_set(payload, '$.content', json('{}')) where dedupe_key = ?",
      ),
      outboxNext: p(
        "select id, lane, queue_key as queueKey, dedupe_key as dedupeKey, payload, attempts, next_attempt_at as nextAttemptAt, created_at as createdAt from outbox where queue_key = ? and state = 'pending' and id > ? order by id limit ?",
      ),
      outboxDone: p("update outbox set state = 'done', done_at = ?, last_error = null where id = ?"),
      outboxRetry: p('update outbox set attempts = attempts + 1, next_attempt_at = ?, last_error = ? where id = ?'),
      outboxFailed: p(
        "update outbox set state = 'failed', attempts = attempts + 1, last_error = ?, done_at = ? where id = ?",
      ),
      outboxPendingKeys: p("select distinct queue_key as k from outbox where state = 'pending'"),
      outboxDepth: p("select lane, count(*) as n from outbox where state = 'pending' group by lane"),
      outboxFailedCount: p("select count(*) as n from outbox where state = 'failed'"),
      outboxPrune: p("delete from outbox where state = 'done' and done_at < ?"),
      mapByRemote: p('select matrix_event_id as e, matrix_room_id as r from message_map where remote_message_id = ?'),
      mapByEvent: p('select remote_message_id as m, remote_room_id as r from message_map where matrix_event_id = ?'),
      mapInsert: p(
        'insert into message_map (matrix_event_id, remote_message_id, matrix_room_id, remote_room_id, direction, created_at) values (?, ?, ?, ?, ?, ?) on conflict do nothing',
      ),
      portalByRemote: p('select * from portals where remote_room_id = ?'),
      portalByRoom: p('select * from portals where matrix_room_id = ?'),
      portalUpsert: p(
        'insert into portals (remote_room_id, network, matrix_room_id, name, topic, is_direct, fixed_members, created_at) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (remote_room_id) do update set matrix_room_id = excluded.matrix_room_id, name = excluded.name, topic = excluded.topic',
      ),
      portalBroken: p('update portals set broken = ? where remote_room_id = ?'),
      portalAll: p('select * from portals where matrix_room_id is not null order by created_at'),
      ghostGet: p('select * from ghosts where remote_user_id = ?'),
      ghostUpsert: p(
        'insert into ghosts (remote_user_id, network, user_id, display_name, avatar_mxc, email, phone, registered, updated_at) values (?, ?, ?, ?, ?, ?, ?, 1, ?) on conflict (remote_user_id) do update set display_name = excluded.display_name, avatar_mxc = excluded.avatar_mxc, email = excluded.email, phone = excluded.phone, updated_at = excluded.updated_at',
      ),
      puppetGet: p('select * from puppets where matrix_user_id = ?'),
      puppetByRemote: p('select * from puppets where remote_user_id = ? and logged_out is null'),
      puppetAll: p('select * from puppets'),
      puppetUpsert: p(
        'insert into puppets (matrix_user_id, network, remote_user_id, remote_name, credentials, logged_out, created_at) values (?, ?, ?, ?, ?, null, ?) on conflict (matrix_user_id) do update set remote_user_id = excluded.remote_user_id, remote_name = excluded.remote_name, credentials = excluded.credentials, logged_out = null',
      ),
      puppetDeleteRemote: p('delete from puppets where remote_user_id = ? and matrix_user_id <> ?'),
      puppetCreds: p('update puppets set credentials = ? where matrix_user_id = ?'),
      puppetLoggedOut: p('update puppets set logged_out = ? where matrix_user_id = ?'),
      puppetDelete: p('delete from puppets where matrix_user_id = ?'),
      matrixTokenGet: p('select token from matrix_tokens where matrix_user_id = ?'),
      matrixTokenUpsert: p(
        'insert into matrix_tokens (matrix_user_id, token, created_at) values (?, ?, ?) on conflict (matrix_user_id) do update set token = excluded.token, created_at = excluded.created_at',
      ),
      matrixTokenDelete: p('delete from matrix_tokens where matrix_user_id = ?'),
      mgmtByUser: p('select room_id as r from management_rooms where matrix_user_id = ?'),
      mgmtByRoom: p('select matrix_user_id as u from management_rooms where room_id = ?'),
      mgmtUpsert: p(
        'insert into management_rooms (matrix_user_id, room_id, created_at) values (?, ?, ?) on conflict (matrix_user_id) do update set room_id = excluded.room_id',
      ),
      mgmtDeleteRoom: p('delete from management_rooms where room_id = ? and matrix_user_id <> ?'),
      flagSet: p('insert into room_flags (room_id, flag, at) values (?, ?, ?) on conflict do nothing'),
      flagsLike: p('select room_id as r from room_flags where flag = ?'),
    };
  }

  /** Runs `fn` in one synchronous transaction, committed when this (outermost) call returns. */
  tx<T>(fn: () => T): T {
    return this.#g.now(fn);
  }

  /**
   * Runs `fn` atomically in this turn's group commit (src/db/group-commit.ts): the hot path's writes. Await
   * {@link durable} before acknowledging them to anyone.
   */
  batched<T>(fn: () => T): T {
    return this.#g.batch(fn);
  }

  /** Resolves once every write made so far is committed. */
  durable(): Promise<void> {
    return this.#g.durable();
  }

  // -- appservice transactions
  txnSeen(tokenHash: string, txnId: string): boolean {
    return this.#s.txnSeen.get(tokenHash, txnId) !== undefined;
  }
  txnRecord(tokenHash: string, txnId: string, events: number, now: number): void {
    this.#s.txnInsert.run(tokenHash, txnId, events, now);
  }

  // -- outbox
  /** Inserts a pending row and returns it; undefined when the dedupe key was already there (duplicate). */
  outboxInsert(
    lane: 'matrix' | 'remote',
    queueKey: string,
    dedupeKey: string,
    payload: string,
    now: number,
  ): OutboxRow | undefined {
    return this.#g.batch(() => {
      const r = this.#s.outboxInsert.run(lane, queueKey, dedupeKey, payload, now);
      if (r.changes === 0) return undefined;
      return {
        id: Number(r.lastInsertRowid),
        lane,
        queueKey,
        dedupeKey,
        payload,
        attempts: 0,
        nextAttemptAt: 0,
        createdAt: now,
      };
    });
  }
  outboxHas(dedupeKey: string): boolean {
    return this.#s.outboxHas.get(dedupeKey) !== undefined;
  }
  /**
   * Empties the stored content of a pushed Matrix event, as a redaction does on the homeserver: the message
   * carried a secret (a password, an access token) that must not stay readable in the outbox.
   */
  outboxForgetContent(eventId: string): void {
    this.tx(() => this.#s.outboxForgetContent.run(matrixEventKey(eventId)));
  }
  /** The oldest pending rows of one queue after `afterId`, in order. */
  outboxNext(queueKey: string, afterId = 0, limit = 1): OutboxRow[] {
    return this.#s.outboxNext.all(queueKey, afterId, limit) as OutboxRow[];
  }
  /** Marks rows delivered, in one transaction. */
  outboxDone(ids: readonly number[], now: number): void {
    if (ids.length === 0) return;
    this.#g.batch(() => {
      for (const id of ids) this.#s.outboxDone.run(now, id);
    });
  }
  outboxRetry(id: number, nextAt: number, error: string): void {
    this.tx(() => this.#s.outboxRetry.run(nextAt, error, id));
  }
  outboxFailed(id: number, error: string, now: number): void {
    this.tx(() => this.#s.outboxFailed.run(error, now, id));
  }
  outboxPendingKeys(): string[] {
    return (this.#s.outboxPendingKeys.all() as { k: string }[]).map((r) => r.k);
  }
  outboxDepth(): Record<'matrix' | 'remote', number> {
    const out = { matrix: 0, remote: 0 };
    for (const r of this.#s.outboxDepth.all() as { lane: 'matrix' | 'remote'; n: number }[]) out[r.lane] = r.n;
    return out;
  }
  outboxFailedCount(): number {
    return (this.#s.outboxFailedCount.get() as { n: number }).n;
  }
  outboxPrune(before: number): number {
    return this.tx(() => this.#s.outboxPrune.run(before).changes);
  }

  // -- message map
  eventForRemote(remoteId: string): { eventId: string; roomId: string } | undefined {
    const r = this.#s.mapByRemote.get(remoteId) as { e: string; r: string } | undefined;
    return r && { eventId: r.e, roomId: r.r };
  }
  remoteForEvent(eventId: string): { remoteId: string; remoteRoomId: string } | undefined {
    const r = this.#s.mapByEvent.get(eventId) as { m: string; r: string } | undefined;
    return r && { remoteId: r.m, remoteRoomId: r.r };
  }
  mapInsert(
    m: {
      eventId: string;
      remoteId: string;
      roomId: string;
      remoteRoomId: string;
      direction: 'to-matrix' | 'to-remote';
    },
    now: number,
  ): void {
    this.#g.batch(() => this.#s.mapInsert.run(m.eventId, m.remoteId, m.roomId, m.remoteRoomId, m.direction, now));
  }

  // -- portals
  portalByRemote(remoteRoomId: string): PortalRow | undefined {
    return toPortal(this.#s.portalByRemote.get(remoteRoomId) as Row | undefined);
  }
  portalByRoom(roomId: string): PortalRow | undefined {
    return toPortal(this.#s.portalByRoom.get(roomId) as Row | undefined);
  }
  portalUpsert(p: Omit<PortalRow, 'broken'>, now: number): void {
    this.tx(() =>
      this.#s.portalUpsert.run(
        p.remoteRoomId,
        p.network,
        p.matrixRoomId,
        p.name,
        p.topic,
        p.isDirect ? 1 : 0,
        p.fixedMembers ? 1 : 0,
        now,
      ),
    );
  }
  portalMarkBroken(remoteRoomId: string, reason: string): void {
    this.tx(() => this.#s.portalBroken.run(reason, remoteRoomId));
  }
  portals(): PortalRow[] {
    return (this.#s.portalAll.all() as Row[]).map((r) => toPortal(r)!);
  }

  // -- ghosts
  ghost(remoteUserId: string): GhostRow | undefined {
    const r = this.#s.ghostGet.get(remoteUserId) as Row | undefined;
    if (!r) return undefined;
    return {
      remoteUserId: r.remote_user_id as string,
      userId: r.user_id as string,
      displayName: r.display_name as string | null,
      avatarMxc: r.avatar_mxc as string | null,
      email: r.email as string | null,
      phone: r.phone as string | null,
    };
  }
  ghostUpsert(g: GhostRow, network: string, now: number): void {
    this.tx(() =>
      this.#s.ghostUpsert.run(g.remoteUserId, network, g.userId, g.displayName, g.avatarMxc, g.email, g.phone, now),
    );
  }

  // -- puppets
  puppet(matrixUserId: string): PuppetRow | undefined {
    return toPuppet(this.#s.puppetGet.get(matrixUserId) as Row | undefined);
  }
  /** The logged-in Matrix user linked to a remote user, if any (double puppeting). */
  puppetByRemote(remoteUserId: string): PuppetRow | undefined {
    return toPuppet(this.#s.puppetByRemote.get(remoteUserId) as Row | undefined);
  }
  puppets(): PuppetRow[] {
    return (this.#s.puppetAll.all() as Row[]).map((r) => toPuppet(r)!);
  }
  puppetSave(p: Omit<PuppetRow, 'loggedOut'>, network: string, now: number): void {
    this.tx(() => {
      // One remote account links to one Matrix user: a new login takes it over.
      this.#s.puppetDeleteRemote.run(p.remoteUserId, p.matrixUserId);
      this.#s.puppetUpsert.run(p.matrixUserId, network, p.remoteUserId, p.remoteName, p.credentials, now);
    });
  }
  puppetCredentials(matrixUserId: string, credentials: string): void {
    this.tx(() => this.#s.puppetCreds.run(credentials, matrixUserId));
  }
  puppetLoggedOut(matrixUserId: string, reason: string): void {
    this.tx(() => this.#s.puppetLoggedOut.run(reason, matrixUserId));
  }
  puppetDelete(matrixUserId: string): void {
    this.tx(() => this.#s.puppetDelete.run(matrixUserId));
  }

  // -- Matrix access tokens for double puppeting (`login-matrix`), stored encrypted by the caller
  matrixToken(matrixUserId: string): string | undefined {
    return (this.#s.matrixTokenGet.get(matrixUserId) as { token: string } | undefined)?.token;
  }
  matrixTokenSave(matrixUserId: string, encrypted: string, now: number): void {
    this.tx(() => this.#s.matrixTokenUpsert.run(matrixUserId, encrypted, now));
  }
  /** True when a token was stored. */
  matrixTokenDelete(matrixUserId: string): boolean {
    return this.tx(() => this.#s.matrixTokenDelete.run(matrixUserId).changes > 0);
  }

  // -- management rooms and flags
  managementRoom(userId: string): string | undefined {
    return (this.#s.mgmtByUser.get(userId) as { r: string } | undefined)?.r;
  }
  managementOwner(roomId: string): string | undefined {
    return (this.#s.mgmtByRoom.get(roomId) as { u: string } | undefined)?.u;
  }
  managementSet(userId: string, roomId: string, now: number): void {
    this.tx(() => {
      this.#s.mgmtDeleteRoom.run(roomId, userId);
      this.#s.mgmtUpsert.run(userId, roomId, now);
    });
  }
  /** Sets a one-time flag; true when it was not set before. */
  flagOnce(roomId: string, flag: string, now: number): boolean {
    return this.tx(() => this.#s.flagSet.run(roomId, flag, now).changes > 0);
  }
  roomsWithFlag(flag: string): string[] {
    return (this.#s.flagsLike.all(flag) as { r: string }[]).map((r) => r.r);
  }
}

function toPortal(r: Row | undefined): PortalRow | undefined {
  if (!r) return undefined;
  return {
    remoteRoomId: r.remote_room_id as string,
    network: r.network as string,
    matrixRoomId: r.matrix_room_id as string | null,
    name: r.name as string | null,
    topic: r.topic as string | null,
    isDirect: bool(r.is_direct),
    fixedMembers: bool(r.fixed_members),
    broken: r.broken as string | null,
  };
}

function toPuppet(r: Row | undefined): PuppetRow | undefined {
  if (!r) return undefined;
  return {
    matrixUserId: r.matrix_user_id as string,
    remoteUserId: r.remote_user_id as string,
    remoteName: r.remote_name as string,
    credentials: r.credentials as string,
    loggedOut: r.logged_out as string | null,
  };
}
