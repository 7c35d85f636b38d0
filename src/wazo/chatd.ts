/**
 * wazo-chatd rooms and messages, always as `/users/me/...` with the token of the acting user (chatd takes the
 * sender from the token). A 401 invalidates the token and retries once with a fresh one; a second 401 is thrown.
 */
import type { TokenProvider } from './auth.ts';
import type { WazoHttp, WazoRequest } from './http.ts';
import {
  messageListSchema,
  messageSchema,
  roomListSchema,
  roomSchema,
  type WazoMessage,
  type WazoRoom,
} from './schemas.ts';
import type { z } from 'zod';

const CHATD = '/api/chatd/1.0';

export interface HistoryQuery {
  fromDate?: string;
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  search?: string;
}

export class ChatdClient {
  readonly #http: WazoHttp;
  readonly #tokens: TokenProvider;

  constructor(http: WazoHttp, tokens: TokenProvider) {
    this.#http = http;
    this.#tokens = tokens;
  }

  /** The Wazo user this client acts as (after the first call). */
  get userUuid(): string | undefined {
    return this.#tokens.userUuid;
  }

  /** The Wazo user uuid of the token (fetches a token when none is held yet). */
  async whoami(): Promise<string> {
    await this.#tokens.get();
    return (this.#tokens.userUuid ?? '').toLowerCase();
  }

  /** Creates (or gets: chatd keeps one room per member set) a room with these users; the caller is added by chatd. */
  createRoom(users: readonly string[], name?: string): Promise<WazoRoom> {
    const body: Record<string, unknown> = { users: users.map((uuid) => ({ uuid })) };
    if (name) body.name = name;
    return this.#call({ method: 'POST', path: `${CHATD}/users/me/rooms`, body }, roomSchema);
  }

  /** Rooms where the caller and all `withUsers` are members. */
  async listRooms(withUsers: readonly string[] = []): Promise<WazoRoom[]> {
    const q = withUsers.length > 0 ? `?user_uuid=${withUsers.map(encodeURIComponent).join(',')}` : '';
    return (await this.#call({ method: 'GET', path: `${CHATD}/users/me/rooms${q}` }, roomListSchema)).items;
  }

  /** Posts a message; `alias` is the display name shown instead of the account's (relay). */
  postMessage(room: string, content: string, alias?: string): Promise<WazoMessage> {
    const body: Record<string, unknown> = { content };
    if (alias) body.alias = alias.slice(0, 256);
    return this.#call(
      { method: 'POST', path: `${CHATD}/users/me/rooms/${encodeURIComponent(room)}/messages`, body },
      messageSchema,
    );
  }

  /** History of one room (caller must be a participant, else 404 unknown-room). */
  async listMessages(room: string, q: HistoryQuery = {}): Promise<WazoMessage[]> {
    const params = new URLSearchParams();
    if (q.fromDate) params.set('from_date', q.fromDate);
    if (q.direction) params.set('direction', q.direction);
    if (q.limit !== undefined) params.set('limit', String(q.limit));
    if (q.offset !== undefined) params.set('offset', String(q.offset));
    if (q.search) params.set('search', q.search);
    const qs = params.size > 0 ? `?${params}` : '';
    return (
      await this.#call(
        { method: 'GET', path: `${CHATD}/users/me/rooms/${encodeURIComponent(room)}/messages${qs}` },
        messageListSchema,
      )
    ).items;
  }

  #call<S extends z.ZodType>(req: Omit<WazoRequest, 'token'>, schema: S): Promise<z.output<S>> {
    return this.#http.authed(req, this.#tokens, schema);
  }
}
