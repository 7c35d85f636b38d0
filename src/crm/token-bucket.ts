/**
 * Client-side token bucket shared by every Twenty call of a run: one token per root field, refilled
 * continuously at `perMinute`. Clock and sleep are injected so tests and the benchmark run in virtual time.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  /** Total milliseconds spent waiting for tokens (reported by the benchmark). */
  waitedMs = 0;
  readonly capacity: number;
  private readonly perMs: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(opts: { perMinute: number; now: () => number; sleep: Sleep }) {
    this.capacity = opts.perMinute;
    this.perMs = opts.perMinute / 60_000;
    this.now = opts.now;
    this.sleep = opts.sleep;
    this.tokens = this.capacity;
    this.refilledAt = opts.now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
  }

  /** Waits until `n` tokens are available and takes them. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    let left = n;
    while (left > 0) {
      const want = Math.min(left, this.capacity);
      this.refill();
      if (this.tokens >= want - 1e-9) {
        this.tokens -= want;
        left -= want;
        continue;
      }
      const wait = Math.ceil((want - this.tokens) / this.perMs);
      this.waitedMs += wait;
      await this.sleep(wait, signal);
    }
  }

  /** The server said we are over budget: assume its bucket is empty too. */
  drain(): void {
    this.refill();
    this.tokens = 0;
  }
}
