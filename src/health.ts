/**
 * Health of the service and of each upstream it talks to. Leaf module: parts report their state,
 * `GET /health` reads it.
 */
export type UpstreamState = 'unknown' | 'ok' | 'degraded' | 'down';

export interface UpstreamHealth {
  /** Whether the part is configured at all (e.g. `[twenty] url` set). */
  configured: boolean;
  state: UpstreamState;
  /** Epoch ms of the last successful contact. */
  lastSeen: number | null;
  /** One-line diagnosis for operators; never contains secrets. */
  detail: string | null;
}

export class HealthRegistry {
  readonly #upstreams = new Map<string, UpstreamHealth>();

  /** Declares an upstream (call once per part at start-up). */
  declare(name: string, configured: boolean): void {
    if (!this.#upstreams.has(name)) {
      this.#upstreams.set(name, {
        configured,
        state: configured ? 'unknown' : 'ok',
        lastSeen: null,
        detail: configured ? null : 'not configured',
      });
    }
  }

  /** Records a successful contact. */
  ok(name: string, now = Date.now(), detail: string | null = null): void {
    const cur = this.#get(name);
    this.#upstreams.set(name, { ...cur, state: 'ok', lastSeen: now, detail });
  }

  /** Records a failure with a diagnosis. */
  fail(name: string, detail: string, state: 'degraded' | 'down' = 'down'): void {
    const cur = this.#get(name);
    this.#upstreams.set(name, { ...cur, state, detail });
  }

  snapshot(): Record<string, UpstreamHealth> {
    return Object.fromEntries(this.#upstreams);
  }

  #get(name: string): UpstreamHealth {
    return this.#upstreams.get(name) ?? { configured: true, state: 'unknown', lastSeen: null, detail: null };
  }
}
