/**
 * `[bridge] permissions`: MXID, server name or `*` → relay | user | admin, as mautrix bridges do. The most
 * specific entry wins (exact user, then domain, then `*`); no entry means no access.
 */
import type { PermissionLevel } from './connector.ts';

const RANK: Record<PermissionLevel, number> = { none: 0, relay: 1, user: 2, admin: 3 };

export function permissionLevel(permissions: Readonly<Record<string, string>>, userId: string): PermissionLevel {
  const domain = userId.slice(userId.indexOf(':') + 1);
  const level = permissions[userId] ?? permissions[domain] ?? permissions['*'];
  return level === 'relay' || level === 'user' || level === 'admin' ? level : 'none';
}

/** True when `have` is at least `need`. */
export function atLeast(have: PermissionLevel, need: PermissionLevel): boolean {
  return RANK[have] >= RANK[need];
}
