/**
 * wazo-websocketd client (protocol v2): connects with the service token, subscribes to the chat events, starts,
 * pings, forwards renewed tokens (`op: token`), and reconnects with capped exponential backoff. `onConnected`
 * runs after every successful start so the connector can backfill what was missed (websocketd has no replay).
 */
import WebSocket from 'ws';
import type { Logger } from '../log.ts';
import type { RenewingToken } from './auth.ts';
import type { Clock } from './timers.ts';

export interface EventStreamOptions {
  /** `ws(s)://host/api/websocketd/`. */
  url: string;
  tokens: RenewingToken;
  events: readonly string[];
  verifyTls: boolean;
  clock: Clock;
  log: Logger;
  /** Called with each event envelope (`data` of `op: event`). Must not throw. */
  onEvent: (envelope: unknown) => void;
  /** Called after each (re)connect once events flow; backfill goes here. */
  onConnected?: (attempt: number) => void;
  /** Called when the connection state changes (health, ping). */
  onState?: (state: 'connected' | 'disconnected', detail: string) => void;
  pingIntervalMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Jitter source in [0, 1); injected for deterministic tests. */
  random?: () => number;
}

export class WazoEventStream {
  readonly #o: EventStreamOptions;
  #ws: WebSocket | undefined;
  #stopped = false;
  #failures = 0;
  #connects = 0;
  #reconnectTimer: unknown;
  #pingTimer: unknown;
  #renewTimer: unknown;
  #awaitingPong = false;
  #connected = false;

  constructor(opts: EventStreamOptions) {
    this.#o = opts;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Starts connecting in the background; never throws for an unreachable server. */
  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    for (const t of [this.#reconnectTimer, this.#pingTimer, this.#renewTimer])
      if (t !== undefined) this.#o.clock.clearTimeout(t);
    this.#reconnectTimer = this.#pingTimer = this.#renewTimer = undefined;
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  /** Delay before reconnect attempt n (1-based): initial·2^(n-1), capped, with ±20 % jitter. */
  static backoffDelay(n: number, initialMs: number, maxMs: number, random: () => number): number {
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(30, n - 1));
    return Math.round(base * (0.8 + 0.4 * random()));
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#o.tokens
      .get()
      .then((token) => {
        if (this.#stopped) return;
        const url = new URL(this.#o.url);
        url.searchParams.set('token', token);
        url.searchParams.set('version', '2');
        const ws = new WebSocket(url, { rejectUnauthorized: this.#o.verifyTls, handshakeTimeout: 15_000 });
        this.#ws = ws;
        ws.on('message', (raw) => this.#onMessage(ws, raw.toString()));
        ws.on('close', (code, reason) => this.#onClose(ws, token, code, reason.toString()));
        ws.on('error', (err) => this.#o.log.warn({ err: err.message }, 'wazo websocket error'));
      })
      .catch((err: unknown) => {
        this.#o.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'wazo websocket: cannot get a service token',
        );
        this.#scheduleReconnect('token unavailable');
      });
  }

  #onMessage(ws: WebSocket, text: string): void {
    let msg: { op?: string; code?: number; data?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      // websocketd only sends JSON; a garbled frame is logged and skipped, the stream stays usable.
      this.#o.log.warn('wazo websocket: non-JSON frame skipped');
      return;
    }
    switch (msg.op) {
      case 'init':
        for (const e of this.#o.events) ws.send(JSON.stringify({ op: 'subscribe', data: { event_name: e } }));
        ws.send(JSON.stringify({ op: 'start' }));
        return;
      case 'start':
        this.#onStarted();
        return;
      case 'pong':
        this.#awaitingPong = false;
        return;
      case 'event':
        this.#o.onEvent(msg.data);
        return;
      default:
        // subscribe/token acknowledgements need no action.
        return;
    }
  }

  #onStarted(): void {
    this.#failures = 0;
    this.#connected = true;
    this.#connects++;
    this.#o.onState?.('connected', 'websocket connected');
    this.#schedulePing();
    this.#scheduleRenewal();
    this.#o.onConnected?.(this.#connects);
  }

  #schedulePing(): void {
    const every = this.#o.pingIntervalMs ?? 30_000;
    this.#pingTimer = this.#o.clock.setTimeout(() => {
      const ws = this.#ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      if (this.#awaitingPong) {
        // No pong for a whole interval: the connection is dead even if TCP has not noticed.
        this.#o.log.warn('wazo websocket: no pong, reconnecting');
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.send(JSON.stringify({ op: 'ping', data: { payload: 'mcb' } }));
      this.#schedulePing();
    }, every);
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer !== undefined) this.#o.clock.clearTimeout(this.#renewTimer);
    const delay = Math.max(1000, this.#o.tokens.renewAt - this.#o.clock.now());
    this.#renewTimer = this.#o.clock.setTimeout(() => {
      this.#renewTimer = undefined;
      this.#o.tokens
        .get()
        .then((token) => {
          if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ op: 'token', data: { token } }));
          this.#scheduleRenewal();
        })
        .catch((err: unknown) => {
          // The current token is still valid for the remaining 20 % of its life; try again shortly.
          this.#o.log.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'wazo websocket: token renewal failed',
          );
          this.#renewTimer = this.#o.clock.setTimeout(() => this.#scheduleRenewal(), 30_000);
        });
    }, delay);
  }

  #onClose(ws: WebSocket, token: string, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#connected = false;
    this.#awaitingPong = false;
    for (const t of [this.#pingTimer, this.#renewTimer]) if (t !== undefined) this.#o.clock.clearTimeout(t);
    this.#pingTimer = this.#renewTimer = undefined;
    // 4002 auth failed / 4003 token expired: mint a fresh token before reconnecting.
    if (code === 4002 || code === 4003) this.#o.tokens.invalidate(token);
    if (this.#stopped) return;
    this.#o.onState?.('disconnected', `websocket closed (${code}${reason ? ` ${reason}` : ''})`);
    this.#scheduleReconnect(`closed ${code}`);
  }

  #scheduleReconnect(why: string): void {
    if (this.#stopped) return;
    this.#failures++;
    const b = this.#o.backoff ?? { initialMs: 1000, maxMs: 60_000 };
    const delay = WazoEventStream.backoffDelay(this.#failures, b.initialMs, b.maxMs, this.#o.random ?? Math.random);
    this.#o.log.info({ delay_ms: delay, attempt: this.#failures, why }, 'wazo websocket: reconnecting');
    this.#reconnectTimer = this.#o.clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, delay);
  }
}
