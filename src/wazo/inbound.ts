/**
 * Wazo → Matrix intake shared by both feeds and the backfill: dedupe on the message uuid (N copies → one),
 * echo suppression, the "only rooms with a linked participant" filter, the reorder window, then one
 * RemoteEvent queued on the core per message, in order per room.
 */
import {
  type BridgeHost,
  type NeutralMessage,
  type RemoteEvent,
  remoteMessageId,
  remoteRoomId,
  remoteUserId,
} from '../bridge/index.ts';
import type { CursorStore } from './cursor-store.ts';
import type { InboxStore } from './inbox.ts';
import { SeenSet } from './dedupe.ts';
import type { EchoGuard } from './echo.ts';
import { type MarkdownIt, wazoToMatrix } from './from-wazo.ts';
import { createdAtKey, ReorderBuffer } from './reorder.ts';
import type { RoomDirectory } from './rooms.ts';
import type { WazoMessage } from './schemas.ts';
import type { Clock } from './timers.ts';

export type IngestSource = 'websocket' | 'webhook' | 'backfill' | 'replay';
export type IngestResult = 'queued' | 'duplicate' | 'echo' | 'filtered';

export interface InboundOptions {
  host: Pick<BridgeHost, 'queueRemoteEvent' | 'isKnownMessage' | 'hasPortal' | 'matrixUserFor' | 'log'>;
  rooms: RoomDirectory;
  /** Refreshes puppets' room lists so that membership of `room` becomes known (throttled by the caller). */
  refreshRooms: (room: string) => Promise<void>;
  echo: EchoGuard;
  cursor: CursorStore;
  /** Durable holding area: webhook messages are acknowledged once written here. */
  inbox: InboxStore;
  md: MarkdownIt;
  clock: Clock;
  windowMs: number;
  bridgeAllRooms: boolean;
  /** Called when a message leaves the reorder window (benchmark latency excludes `heldMs`). */
  onEmit?: (uuid: string, heldMs: number) => void;
  /** `[bridge] media`: turns a message that is only a file link into media bytes (undefined = keep the link). */
  media?: (content: string) => Promise<NeutralMessage['media']>;
  /** Called for every copy as it enters (benchmark: "event in"). */
  onReceive?: (uuid: string) => void;
  /** Called once the core has queued the message (benchmark: the connector's share of the latency). */
  onQueued?: (uuid: string) => void;
  /** Called with the sender of each message the core has queued (ghost profile checks). */
  onSender?: (user: string) => void;
}

interface Pending {
  room: string;
  order: number;
  msg: WazoMessage;
  keepTimestamp: boolean;
  done: { resolve: () => void; reject: (e: unknown) => void };
}

export class Inbound {
  readonly #o: InboundOptions;
  readonly #seen = new SeenSet();
  readonly #inflight = new Map<string, Promise<IngestResult>>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #reorder: ReorderBuffer<Pending>;
  /**
   * Messages from a feed without acknowledgement (websocket, backfill) taken in but not queued on the core yet:
   * uuid → `created_at` (and its key). The cursor never moves past the oldest of them, so that the backfill after
   * a drop or a crash re-reads them. A failed one stays (`failed` = the backfill generation it waits for) until a
   * later backfill has had its chance to read it again.
   */
  readonly #unqueued = new Map<string, { key: number; at: string; failed?: number }>();
  #backfills = 0;

  constructor(opts: InboundOptions) {
    this.#o = opts;
    this.#reorder = new ReorderBuffer<Pending>(opts.windowMs, opts.clock, (p, heldMs, straggler) =>
      this.#emit(p, heldMs, straggler),
    );
  }

  /** Messages waiting in the reorder window. */
  get held(): number {
    return this.#reorder.size;
  }

  /**
   * Handles one message copy. Resolves once it is queued on the core (webhook: once held durably in the
   * inbox), or dropped, with the reason.
   */
  ingest(msg: WazoMessage, source: IngestSource, recipient?: string): Promise<IngestResult> {
    const uuid = msg.uuid.toLowerCase();
    const room = msg.room.uuid.toLowerCase();
    this.#o.onReceive?.(uuid);
    if (recipient) this.#o.rooms.addMember(room, recipient);
    this.#o.rooms.addMember(room, msg.user_uuid);
    if (this.#seen.has(uuid)) return Promise.resolve('duplicate');
    const running = this.#inflight.get(uuid);
    if (running) return running.then((r) => (r === 'queued' ? 'duplicate' : r));
    if (this.#o.host.isKnownMessage(remoteMessageId(uuid))) {
      this.#seen.add(uuid);
      return Promise.resolve('duplicate');
    }
    const track = source === 'websocket' || source === 'backfill';
    if (track) this.#unqueued.set(uuid, { key: createdAtKey(msg.created_at), at: msg.created_at });
    const p = this.#decide(uuid, room, msg, source).then(
      (r) => {
        this.#inflight.delete(uuid);
        if (track) this.#unqueued.delete(uuid);
        return r;
      },
      (err: unknown) => {
        this.#inflight.delete(uuid);
        // Not queued: keep the cursor before it until the next backfill has tried to read it again.
        const entry = this.#unqueued.get(uuid);
        if (entry) entry.failed = this.#backfills + 1;
        throw err;
      },
    );
    this.#inflight.set(uuid, p);
    return p;
  }

  /** A backfill starts; returns its generation, for `backfillDone`. */
  backfillStarted(): number {
    return ++this.#backfills;
  }

  /**
   * The backfill of `generation` read every room it could: messages that failed before it started and that it
   * did not queue again are given up on, so that one message that can never be read again does not hold the
   * cursor back for ever.
   */
  backfillDone(generation: number): void {
    for (const [uuid, e] of this.#unqueued)
      if (e.failed !== undefined && e.failed <= generation) this.#unqueued.delete(uuid);
  }

  /** Newest `created_at` queued since the cursor last moved (the cursor moves once per turn of the event loop). */
  #queuedAt: { key: number; at: string } | undefined;

  /**
   * Moves the cursor to `createdAt`, or to the oldest message not queued yet when that is older. Once per turn
   * of the event loop for all the messages queued in it: the scan of the messages not queued yet costs one
   * step per message in flight (hundreds at saturation), too much to repeat for every message. Until then the
   * cursor stays a little behind, which only makes a backfill re-read (and deduplicate) a few messages more.
   */
  #advanceCursor(createdAt: string): void {
    const key = createdAtKey(createdAt);
    const pending = this.#queuedAt;
    if (pending === undefined || key > pending.key) this.#queuedAt = { key, at: createdAt };
    if (pending !== undefined) return; // already scheduled for this turn
    setImmediate(() => {
      let { key: min, at } = this.#queuedAt!;
      this.#queuedAt = undefined;
      for (const e of this.#unqueued.values())
        if (e.key < min) {
          min = e.key;
          at = e.at;
        }
      try {
        this.#o.cursor.advance(at);
      } catch (err) {
        // The database closed meanwhile (shutdown): the cursor stays behind, which only costs a longer backfill.
        this.#o.host.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'wazo: cursor not saved');
      }
    });
  }

  async #decide(uuid: string, room: string, msg: WazoMessage, source: IngestSource): Promise<IngestResult> {
    const echo = this.#o.echo;
    const probe = { uuid, room, sender: msg.user_uuid.toLowerCase(), content: msg.content };
    if (echo.isOurs(uuid) || (echo.needsWait(probe) && (await echo.isEcho(probe)))) {
      this.#seen.add(uuid);
      return 'echo';
    }
    if (!(await this.#eligible(room))) {
      this.#seen.add(uuid);
      return 'filtered';
    }
    // Webhook messages are acknowledged once durable in the inbox, not after the reorder window. A failed
    // write throws before the uuid is marked seen, so webhookd's retry is accepted.
    const durable = source === 'webhook' || source === 'replay';
    if (source === 'webhook') {
      this.#o.inbox.put(msg);
      await this.#o.inbox.durable();
    }
    this.#seen.add(uuid);
    const queued = new Promise<void>((resolve, reject) => {
      this.#reorder.push({
        room,
        order: createdAtKey(msg.created_at),
        msg,
        keepTimestamp: source === 'backfill',
        done: { resolve, reject },
      });
    });
    if (!durable) {
      await queued;
      return 'queued';
    }
    queued.then(
      () => this.#o.inbox.remove(uuid),
      (err: unknown) => {
        // The row stays in the inbox; it is tried again shortly (and at the next start).
        this.#o.host.log.warn(
          { wazo_message_id: uuid, err: err instanceof Error ? err.message : String(err) },
          'wazo: message not queued; will retry',
        );
        this.#scheduleReplay();
      },
    );
    return 'queued';
  }

  #replayTimer: unknown;

  #scheduleReplay(): void {
    if (this.#replayTimer !== undefined) return;
    this.#replayTimer = this.#o.clock.setTimeout(() => {
      this.#replayTimer = undefined;
      void this.replayInbox();
    }, 5000);
  }

  /** Feeds messages left in the inbox (crash, failed queueing) back through the pipeline. */
  async replayInbox(): Promise<number> {
    let n = 0;
    for (const m of this.#o.inbox.pending()) {
      const r = await this.ingest(m, 'replay');
      if (r !== 'queued') this.#o.inbox.remove(m.uuid.toLowerCase());
      n++;
    }
    return n;
  }

  async #eligible(room: string): Promise<boolean> {
    if (this.#o.bridgeAllRooms || this.#o.host.hasPortal(remoteRoomId(room))) return true;
    if (this.#hasLinkedMember(room)) return true;
    if (this.#o.rooms.get(room)?.complete) return false;
    await this.#o.refreshRooms(room);
    return this.#hasLinkedMember(room);
  }

  #hasLinkedMember(room: string): boolean {
    const known = this.#o.rooms.get(room);
    if (!known) return false;
    for (const m of known.members) if (this.#o.host.matrixUserFor(remoteUserId(m))) return true;
    return false;
  }

  #emit(p: Pending, heldMs: number, straggler: boolean): void {
    this.#o.onEmit?.(p.msg.uuid, heldMs);
    const m = p.msg;
    const rendered = wazoToMatrix(m.content, this.#o.md);
    const body: NeutralMessage = { kind: 'text', text: rendered.body };
    if (rendered.formatted_body !== undefined) body.html = rendered.formatted_body;
    const ev: RemoteEvent = {
      kind: 'message',
      portal: { id: remoteRoomId(p.room) },
      sender: { id: remoteUserId(m.user_uuid.toLowerCase()) },
      remoteId: remoteMessageId(m.uuid.toLowerCase()),
      at: new Date(Date.parse(m.created_at)),
      body,
    };
    if (p.keepTimestamp || straggler) ev.keepTimestamp = true;
    // Chained per room so that the core receives one room's events in the order released here.
    const prev = this.#chains.get(p.room) ?? Promise.resolve();
    const media = this.#o.media;
    const next = prev
      .then(async () => {
        if (!media) return;
        const found = await media(m.content).catch((err: unknown) => {
          // A failed download only costs the preview: the message goes out with its link.
          this.#o.host.log.warn(
            { wazo_message_id: m.uuid, err: err instanceof Error ? err.message : String(err) },
            'wazo: media download failed',
          );
          return undefined;
        });
        if (found) {
          body.media = found;
          delete body.html;
        }
      })
      .then(() => this.#o.host.queueRemoteEvent(ev));
    const tail = next.then(
      () => {
        this.#advanceCursor(m.created_at);
        this.#o.onQueued?.(m.uuid);
        this.#o.onSender?.(m.user_uuid.toLowerCase());
        p.done.resolve();
      },
      (err: unknown) => {
        // The source must not be acknowledged: webhookd retries, the next backfill reads it again.
        this.#seen.delete(m.uuid.toLowerCase());
        p.done.reject(err);
      },
    );
    this.#chains.set(p.room, tail);
    void tail.then(() => {
      if (this.#chains.get(p.room) === tail) this.#chains.delete(p.room);
    });
  }

  /** Releases held messages at once (shutdown). */
  drain(): void {
    this.#reorder.drain();
  }
}
