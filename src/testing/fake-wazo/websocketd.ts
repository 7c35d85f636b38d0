/**
 * Fake wazo-websocketd (protocol v2): token from `?token=` or `X-Auth-Token`, `init`, `subscribe`, `start`,
 * `token` renewal, `ping`/`pong`; close codes 4002 (auth failed), 4003 (token expired), 4004 (protocol error).
 * Service-account (admin) tokens receive every event of the tenant; users only those addressed to them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type BusEvent, envelope, type FakeWazoState } from './state.ts';

interface Conn {
  ws: WebSocket;
  token: string;
  subscribed: Set<string>;
  started: boolean;
}

export class FakeWebsocketd {
  readonly #state: FakeWazoState;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #conns = new Set<Conn>();
  /** Number of connections accepted so far (reconnect tests read it). */
  accepted = 0;
  /** Ops received from clients, in order. */
  readonly ops: { op: string; data?: unknown }[] = [];

  constructor(state: FakeWazoState) {
    this.#state = state;
  }

  get openConnections(): number {
    return this.#conns.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = url.searchParams.get('token') ?? (req.headers['x-auth-token'] as string | undefined) ?? '';
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (!token) return ws.close(4001, 'no token');
      if (!this.#state.validToken(token)) return ws.close(4002, 'authentication failed');
      this.accepted++;
      const conn: Conn = { ws, token, subscribed: new Set(), started: false };
      this.#conns.add(conn);
      ws.on('close', () => this.#conns.delete(conn));
      ws.on('message', (raw) => this.#onMessage(conn, raw.toString()));
      ws.send(JSON.stringify({ op: 'init', code: 0, data: { version: 2 } }));
    });
  }

  #onMessage(conn: Conn, text: string): unknown {
    let msg: { op?: unknown; data?: Record<string, unknown> };
    try {
      msg = JSON.parse(text);
    } catch {
      // A frame that is not JSON is a protocol error in websocketd: the connection is closed with 4004.
      conn.ws.close(4004, 'protocol error');
      return;
    }
    this.ops.push({ op: String(msg.op), data: msg.data });
    switch (msg.op) {
      case 'subscribe':
        if (typeof msg.data?.event_name !== 'string') return conn.ws.close(4004, 'protocol error');
        conn.subscribed.add(msg.data.event_name);
        return conn.ws.send(JSON.stringify({ op: 'subscribe', code: 0 }));
      case 'unsubscribe':
        conn.subscribed.delete(String(msg.data?.event_name));
        return conn.ws.send(JSON.stringify({ op: 'unsubscribe', code: 0 }));
      case 'start':
        conn.started = true;
        return conn.ws.send(JSON.stringify({ op: 'start', code: 0 }));
      case 'token': {
        const t = String(msg.data?.token ?? '');
        if (!this.#state.validToken(t)) return conn.ws.close(4002, 'authentication failed');
        conn.token = t;
        return conn.ws.send(JSON.stringify({ op: 'token', code: 0 }));
      }
      case 'ping':
        return conn.ws.send(JSON.stringify({ op: 'pong', code: 0, data: { payload: msg.data?.payload ?? null } }));
      default:
        conn.ws.close(4004, 'protocol error');
    }
  }

  /** Sends one event copy to every started connection allowed to see it; returns how many got it. */
  deliver(e: BusEvent): number {
    let n = 0;
    for (const conn of this.#conns) {
      if (!conn.started || (!conn.subscribed.has(e.name) && !conn.subscribed.has('*'))) continue;
      const t = this.#state.validToken(conn.token);
      if (!t) {
        conn.ws.close(4003, 'token expired');
        continue;
      }
      if (!t.admin && t.userUuid !== e.recipient) continue;
      conn.ws.send(JSON.stringify({ op: 'event', code: 0, data: envelope(e) }));
      n++;
    }
    return n;
  }

  /** Closes connections whose token expired (websocketd checks on its own schedule). */
  enforceTokenExpiry(): void {
    for (const c of this.#conns) if (!this.#state.validToken(c.token)) c.ws.close(4003, 'token expired');
  }

  /** Simulates a network drop: sockets die without a close frame. */
  dropAll(): void {
    for (const c of this.#conns) c.ws.terminate();
    this.#conns.clear();
  }

  close(): void {
    this.dropAll();
    this.#wss.close();
  }
}
