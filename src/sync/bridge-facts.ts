/**
 * What our own bridge knows, read (never written) from its tables (owner: src/bridge; the sync stage may
 * read them): which rooms are our portals, which Matrix users linked a Wazo account (staff), and the
 * profiles of our ghosts as the bridge last fetched them from Wazo (name, e-mail, phone), which become the
 * Wazo customers' profile. Raw SQL on purpose: stages must not import src/bridge.
 */
import type Database from 'better-sqlite3';

export interface BridgeFacts {
  /** Matrix room IDs of our portals. */
  portalRooms: ReadonlySet<string>;
  /** Matrix users with a linked Wazo account (puppets), and the ghosts of those same Wazo users: staff. */
  linkedUsers: ReadonlySet<string>;
  /** Our ghosts' profiles by MXID. */
  ghostProfiles: ReadonlyMap<string, { name: string | null; email: string | null; phone: string | null }>;
}

export const NO_BRIDGE_FACTS: BridgeFacts = {
  portalRooms: new Set(),
  linkedUsers: new Set(),
  ghostProfiles: new Map(),
};

type Row = Record<string, string | null>;

export function loadBridgeFacts(db: Database.Database): BridgeFacts {
  const has = (t: string) =>
    db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(t) !== undefined;
  if (!has('portals') || !has('ghosts') || !has('puppets')) return NO_BRIDGE_FACTS;
  const portalRooms = new Set(
    (db.prepare('select matrix_room_id from portals where matrix_room_id is not null').all() as Row[]).map(
      (r) => r.matrix_room_id as string,
    ),
  );
  const linkedUsers = new Set<string>();
  for (const r of db
    .prepare(
      `select p.matrix_user_id, g.user_id as ghost from puppets p
      left join ghosts g on g.network = p.network and g.remote_user_id = p.remote_user_id where p.logged_out is null`,
    )
    .all() as Row[]) {
    linkedUsers.add(r.matrix_user_id as string);
    if (r.ghost) linkedUsers.add(r.ghost);
  }
  const ghostProfiles = new Map<string, { name: string | null; email: string | null; phone: string | null }>();
  for (const r of db.prepare('select user_id, display_name, email, phone from ghosts').all() as Row[]) {
    ghostProfiles.set(r.user_id as string, { name: r.display_name, email: r.email, phone: r.phone });
  }
  return { portalRooms, linkedUsers, ghostProfiles };
}
