/**
 * Exports conversation segments as records of the custom `conversation` object with
 * `createConversations(upsert: true)`, keyed by `conversationKey` (and a UUIDv5 id), linked to the person.
 * Unchanged records (same content hash) are skipped.
 */
import type { TwentyClient } from './client.ts';
import { type ConversationInput, contentHash, conversationPayload, recordId } from './mapping.ts';
import type { LinkRow } from './store.ts';
import { upsertInBatches } from './upsert-batches.ts';

export interface RecordCounts {
  created: number;
  updated: number;
  skipped: number;
  failed: number;
}

export async function exportConversations(
  client: TwentyClient | undefined,
  list: ConversationInput[],
  personIds: Map<string, string>,
  links: Map<string, LinkRow>,
  opts: {
    usable: Set<string>;
    exportExcerpts: boolean;
    batchSize: number;
    now: number;
    dryRun: boolean;
    signal?: AbortSignal;
    save: (rows: LinkRow[]) => void;
  },
): Promise<{ counts: RecordCounts; pending: Record<string, unknown>[]; exported: Set<string> }> {
  const counts: RecordCounts = { created: 0, updated: 0, skipped: 0, failed: 0 };
  const exported = new Set<string>();
  const toWrite: { c: ConversationInput; id: string; hash: string; data: Record<string, unknown>; isNew: boolean }[] =
    [];
  for (const c of list) {
    const personId = c.customerKey ? (personIds.get(c.customerKey) ?? null) : null;
    const payload = conversationPayload(c, personId, opts.usable, { exportExcerpts: opts.exportExcerpts });
    const hash = contentHash(payload);
    const prev = links.get(c.id);
    if (prev && prev.contentHash === hash) {
      counts.skipped++;
      if (prev.status === 'ok') exported.add(c.id);
      continue;
    }
    const id = prev?.twentyId ?? recordId('conversation', c.id);
    toWrite.push({ c, id, hash, data: { id, ...payload }, isNew: !prev || prev.status === 'failed' });
  }
  const pending = toWrite.map((w) => w.data);
  if (opts.dryRun || !client) {
    for (const w of toWrite) {
      if (w.isNew) counts.created++;
      else counts.updated++;
    }
    return { counts, pending, exported };
  }
  const link = (w: (typeof toWrite)[number], status: LinkRow['status'], error: string | null): LinkRow => ({
    kind: 'conversation',
    localKey: w.c.id,
    twentyId: w.id,
    contentHash: w.hash,
    status,
    error,
    matchEmail: null,
    matchPhone: null,
    state: null,
    exportedAt: opts.now,
  });
  await upsertInBatches(
    client,
    { field: 'createConversations', inputType: 'ConversationCreateInput' },
    toWrite.map((w) => ({ data: w.data, ref: w })),
    opts.batchSize,
    {
      signal: opts.signal,
      done: (items) => {
        opts.save(items.map((i) => link(i.ref, 'ok', null)));
        for (const i of items) {
          if (i.ref.isNew) counts.created++;
          else counts.updated++;
          exported.add(i.ref.c.id);
        }
      },
      failed: (item, error) => {
        opts.save([link(item.ref, 'failed', error.message)]);
        counts.failed++;
      },
    },
  );
  return { counts, pending, exported };
}
