/**
 * A virtual clock shared by the exporter (token bucket, back-off) and the fake Twenty (rate limiter), so
 * tests and the benchmark exercise minutes of rate limiting without waiting.
 */
export interface VirtualClock {
  now: () => number;
  /** Advances the clock instead of waiting. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Total virtual milliseconds slept. */
  slept: () => number;
}

export function createVirtualClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)): VirtualClock {
  let t = start;
  let slept = 0;
  return {
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      t += ms;
      slept += ms;
    },
    slept: () => slept,
  };
}
