/**
 * Sends records with `create<Plural>(data, upsert: true)` in batches. A batch refused for its content (one
 * invalid phone or e-mail fails the whole createMany) is split in halves until the bad record is isolated;
 * that record is reported as failed and the others go through. Rate limits and transient errors are
 * handled by the client below.
 */
import type { GraphQLErrorShape, TwentyClient } from './client.ts';

export interface UpsertItem<T> {
  /** Full payload including `id`. */
  data: Record<string, unknown>;
  ref: T;
}

export interface UpsertTarget {
  /** `createPeople`. */
  field: string;
  /** `PersonCreateInput`. */
  inputType: string;
  /** Selection of the returned records (default `id`). */
  selection?: string;
}

export async function upsertInBatches<T>(
  client: TwentyClient,
  target: UpsertTarget,
  items: UpsertItem<T>[],
  batchSize: number,
  handlers: {
    /**
     * Called after each accepted batch (persist links here, so a crash loses at most one batch) with the
     * records the server returned. Their order is not the input order (Twenty lists the records it
     * updated before the ones it inserted), and a record matched on a unique field keeps its own id.
     */
    done: (items: UpsertItem<T>[], records: Record<string, unknown>[]) => void;
    failed: (item: UpsertItem<T>, error: GraphQLErrorShape) => void;
    signal?: AbortSignal;
  },
): Promise<void> {
  const send = async (batch: UpsertItem<T>[]): Promise<void> => {
    const [r] = await client.graphql('mutation', [
      {
        field: target.field,
        args: 'data: $data, upsert: true',
        vars: { data: { type: `[${target.inputType}!]!`, value: batch.map((b) => b.data) } },
        selection: target.selection ?? 'id',
      },
    ]);
    if (r.ok) return handlers.done(batch, (r.data as Record<string, unknown>[] | null) ?? []);
    if (batch.length === 1) return handlers.failed(batch[0], r.error);
    const mid = Math.ceil(batch.length / 2);
    await send(batch.slice(0, mid));
    await send(batch.slice(mid));
  };
  for (let i = 0; i < items.length; i += batchSize) {
    // Stop between batches on SIGTERM: everything sent so far is recorded, the next run resumes.
    if (handlers.signal?.aborted) return;
    await send(items.slice(i, i + batchSize));
  }
}
