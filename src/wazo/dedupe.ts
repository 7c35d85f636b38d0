/**
 * Bounded memory of message uuids already accepted: both feeds deliver one copy per participant, so the second
 * and later copies are dropped here before any work. The core's message map is the durable backstop.
 */
export class SeenSet {
  readonly #max: number;
  readonly #seen = new Set<string>();

  constructor(max = 100_000) {
    this.#max = max;
  }

  /** Records `id`; returns false when it was already there. */
  add(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    if (this.#seen.size > this.#max) {
      // Sets iterate in insertion order: drop the oldest.
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }

  /** Forgets `id` (its queueing failed, so a later copy must be accepted). */
  delete(id: string): void {
    this.#seen.delete(id);
  }

  has(id: string): boolean {
    return this.#seen.has(id);
  }

  get size(): number {
    return this.#seen.size;
  }
}
