/**
 * Wazo identifiers. chatd, auth and confd all use lowercase UUID strings; branding keeps a room uuid from
 * being passed where a user uuid is expected. Only this connector creates and parses them.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type WazoRoomUuid = Brand<string, 'WazoRoomUuid'>;
export type WazoUserUuid = Brand<string, 'WazoUserUuid'>;
export type WazoMessageUuid = Brand<string, 'WazoMessageUuid'>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a canonical (lowercase, hyphenated) UUID as Wazo emits it. */
export function isUuid(v: string): boolean {
  return UUID_RE.test(v);
}

function parse<T extends string>(v: string, what: string): T {
  const lower = v.toLowerCase();
  if (!UUID_RE.test(lower)) throw new TypeError(`invalid Wazo ${what} uuid: ${JSON.stringify(v.slice(0, 60))}`);
  return lower as T;
}

export const roomUuid = (v: string): WazoRoomUuid => parse<WazoRoomUuid>(v, 'room');
export const userUuid = (v: string): WazoUserUuid => parse<WazoUserUuid>(v, 'user');
export const messageUuid = (v: string): WazoMessageUuid => parse<WazoMessageUuid>(v, 'message');
