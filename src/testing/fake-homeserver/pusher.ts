/**
 * Pushes events to registered appservices like Synapse does: `PUT {url}/_matrix/app/v1/transactions/{txnId}`
 * with `Authorization: Bearer <hs_token>`, in stream order, one transaction at a time per appservice,
 * retrying the same txnId with exponential backoff while the appservice fails.
 */
import { nodeFetch } from '../../matrix/fetch.ts';
import type { AppserviceRegistration, FakeEvent, HomeserverModel } from './model.ts';

export interface PusherOptions {
  /** First retry delay; doubles up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Events per transaction (Synapse: 100). */
  batchSize?: number;
}

export class AppservicePusher {
  readonly #model: HomeserverModel;
  readonly #queues = new Map<string, FakeEvent[]>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #opts: Required<PusherOptions>;
  #txn = 0;
  #stopped = false;
  /** Transactions delivered (for assertions). */
  readonly delivered: { appservice: string; txnId: string; events: FakeEvent[] }[] = [];

  constructor(model: HomeserverModel, opts: PusherOptions = {}) {
    this.#model = model;
    this.#opts = { baseDelayMs: 50, maxDelayMs: 2000, batchSize: 100, ...opts };
    model.listeners.push((ev) => this.#onEvent(ev));
  }

  /** Resolves when every queued event has been delivered. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  stop(): void {
    this.#stopped = true;
  }

  /** True when the appservice is interested in the event (namespaced sender, target or joined member). */
  interested(as: AppserviceRegistration, ev: FakeEvent): boolean {
    const m = this.#model;
    if (m.inNamespace(as, ev.sender)) return true;
    if (ev.type === 'm.room.member' && ev.state_key && m.inNamespace(as, ev.state_key)) return true;
    const room = m.rooms.get(ev.room_id);
    if (room && m.joinedMembers(room).some((u) => m.inNamespace(as, u))) return true;
    return (as.namespaces.rooms ?? []).some((n) => new RegExp(n.regex).test(ev.room_id));
  }

  #onEvent(ev: FakeEvent) {
    for (const as of this.#model.appservices) {
      if (!as.url || !this.interested(as, ev)) continue;
      const q = this.#queues.get(as.id) ?? [];
      q.push(ev);
      this.#queues.set(as.id, q);
      if (!this.#running.has(as.id)) {
        const run = this.#drain(as).finally(() => this.#running.delete(as.id));
        this.#running.set(as.id, run);
      }
    }
  }

  async #drain(as: AppserviceRegistration) {
    // Let the request that produced the event answer first, as a real homeserver does.
    await new Promise((r) => setImmediate(r));
    const q = this.#queues.get(as.id)!;
    let delay = this.#opts.baseDelayMs;
    while (q.length > 0 && !this.#stopped) {
      const batch = q.slice(0, this.#opts.batchSize);
      const txnId = String(++this.#txn);
      for (;;) {
        if (this.#stopped) return;
        const ok = await this.#send(as, txnId, batch);
        if (ok) break;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.#opts.maxDelayMs);
      }
      delay = this.#opts.baseDelayMs;
      q.splice(0, batch.length);
      this.delivered.push({ appservice: as.id, txnId, events: batch });
    }
  }

  async #send(as: AppserviceRegistration, txnId: string, events: FakeEvent[]): Promise<boolean> {
    try {
      // Keep-alive, as Synapse's appservice HTTP client pools its connections.
      const res = await nodeFetch(
        `${as.url!.replace(/\/$/, '')}/_matrix/app/v1/transactions/${encodeURIComponent(txnId)}`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${as.hs_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events: events.map((e) => this.#model.clientEvent(e)) }),
          signal: AbortSignal.timeout(10_000),
        },
      );
      await res.arrayBuffer();
      return res.ok;
    } catch {
      // Appservice unreachable: retried with backoff, like Synapse's appservice scheduler.
      return false;
    }
  }

  /** Calls the appservice's ping endpoint; status 0 when unreachable. */
  async ping(as: AppserviceRegistration, transactionId?: string): Promise<{ status: number; body: unknown }> {
    try {
      const res = await nodeFetch(`${as.url!.replace(/\/$/, '')}/_matrix/app/v1/ping`, {
        method: 'POST',
        headers: { authorization: `Bearer ${as.hs_token}`, 'content-type': 'application/json' },
        body: JSON.stringify(transactionId ? { transaction_id: transactionId } : {}),
        signal: AbortSignal.timeout(5_000),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    } catch {
      // Reported to the caller as M_CONNECTION_FAILED.
      return { status: 0, body: null };
    }
  }
}
