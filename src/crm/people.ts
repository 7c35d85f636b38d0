/**
 * Resolves customers to Twenty people, one person per human across channels: the local `crm_links` first
 * (also matching another customer key with the same e-mail or phone), then batched look-ups in Twenty by
 * unique e-mail and by phone (national number + calling code), and creates the rest with
 * `createPeople(upsert: true)` and deterministic UUIDv5 ids, so a retry never makes a second person.
 */
import type { TwentyClient } from './client.ts';
import {
  type CustomerRow,
  contentHash,
  normaliseEmail,
  normalisePhone,
  type PersonEnrichment,
  personPayload,
  recordId,
} from './mapping.ts';
import type { WorkspaceModel } from './model.ts';
import type { LinkRow } from './store.ts';
import { upsertInBatches } from './upsert-batches.ts';

export interface PeopleCounts {
  created: number;
  updated: number;
  linked: number;
  skipped: number;
  failed: number;
}

export interface PeopleOptions {
  batchSize: number;
  now: number;
  dryRun: boolean;
  enrich: Map<string, PersonEnrichment> | undefined;
  usableEnrich: Set<string>;
  signal?: AbortSignal;
  save: (rows: LinkRow[]) => void;
}

interface Candidate {
  customer: CustomerRow;
  email: string | undefined;
  phone: string | undefined;
  payload: Record<string, unknown>;
  hash: string;
}

/** Returns customer key → Twenty person id (missing when the person could not be exported). */
export async function resolvePeople(
  client: TwentyClient | undefined,
  model: WorkspaceModel | undefined,
  customers: CustomerRow[],
  links: Map<string, LinkRow>,
  opts: PeopleOptions,
): Promise<{ ids: Map<string, string>; counts: PeopleCounts; pending: Record<string, unknown>[] }> {
  const counts: PeopleCounts = { created: 0, updated: 0, linked: 0, skipped: 0, failed: 0 };
  const ids = new Map<string, string>();
  const link = (c: Candidate, twentyId: string, status: LinkRow['status'], error: string | null = null): LinkRow => ({
    kind: 'person',
    localKey: c.customer.key,
    twentyId,
    contentHash: c.hash,
    status,
    error,
    matchEmail: c.email ?? null,
    matchPhone: c.phone ?? null,
    state: null,
    exportedAt: opts.now,
  });
  const byEmail = new Map<string, string>();
  const byPhone = new Map<string, string>();
  for (const l of links.values()) {
    if (l.status === 'failed') continue;
    if (l.matchEmail) byEmail.set(l.matchEmail, l.twentyId);
    if (l.matchPhone) byPhone.set(l.matchPhone, l.twentyId);
  }

  const toWrite: { c: Candidate; id: string; isNew: boolean }[] = [];
  const unresolved: Candidate[] = [];
  const localLinks: LinkRow[] = [];
  for (const customer of customers) {
    const payload = personPayload(customer, opts.enrich?.get(customer.key), opts.usableEnrich);
    const c: Candidate = {
      customer,
      email: normaliseEmail(customer.email),
      phone: normalisePhone(customer.phone)?.e164,
      payload,
      hash: contentHash(payload),
    };
    const prev = links.get(customer.key);
    if (prev && prev.status !== 'failed') {
      ids.set(customer.key, prev.twentyId);
      if (prev.status === 'ok' && prev.contentHash !== c.hash) toWrite.push({ c, id: prev.twentyId, isNew: false });
      else counts.skipped++;
      continue;
    }
    if (prev?.status === 'failed' && prev.contentHash === c.hash) {
      counts.skipped++;
      continue;
    }
    const local = (c.email && byEmail.get(c.email)) || (c.phone && byPhone.get(c.phone));
    if (local) {
      ids.set(customer.key, local);
      localLinks.push(link(c, local, 'linked'));
      counts.linked++;
      continue;
    }
    unresolved.push(c);
  }
  if (!opts.dryRun) opts.save(localLinks);

  if (!opts.dryRun && client && model && unresolved.length > 0) {
    const found = await lookUp(client, model, unresolved, opts.batchSize);
    const foundLinks: LinkRow[] = [];
    for (const c of unresolved.splice(0)) {
      const id = (c.email && found.byEmail.get(c.email)) || (c.phone && found.byPhone.get(c.phone));
      if (id) {
        ids.set(c.customer.key, id);
        foundLinks.push(link(c, id, 'linked'));
        counts.linked++;
      } else unresolved.push(c);
    }
    opts.save(foundLinks);
  }
  // The same human on two channels in this very run: one person, keyed by the first customer key.
  const groupId = new Map<string, string>();
  const sharing = new Map<string, Candidate[]>();
  for (const c of unresolved) {
    const shared = (c.email && groupId.get(`e:${c.email}`)) || (c.phone && groupId.get(`p:${c.phone}`));
    const id = shared || recordId('person', c.customer.key);
    if (c.email) groupId.set(`e:${c.email}`, id);
    if (c.phone) groupId.set(`p:${c.phone}`, id);
    ids.set(c.customer.key, id);
    if (shared) {
      // Saved once the person is written: the upsert may adopt an existing row with another id.
      sharing.set(id, [...(sharing.get(id) ?? []), c]);
      counts.linked++;
    } else toWrite.push({ c, id, isNew: true });
  }
  const pending = toWrite.map((w) => ({ id: w.id, ...w.c.payload }));
  if (opts.dryRun || !client) {
    for (const w of toWrite) {
      if (w.isNew) counts.created++;
      else counts.updated++;
    }
    return { ids, counts, pending };
  }
  const hasEmails = model?.objects.person?.fields.emails?.type === 'EMAILS';
  await upsertInBatches(
    client,
    {
      field: 'createPeople',
      inputType: 'PersonCreateInput',
      selection: hasEmails ? 'id emails { primaryEmail }' : 'id',
    },
    toWrite.map((w) => ({ data: { id: w.id, ...w.c.payload }, ref: w })),
    opts.batchSize,
    {
      signal: opts.signal,
      done: (items, records) => {
        // Upsert also matches on the unique e-mail, soft-deleted rows included (reference §4 upsert 1–3):
        // the matched row keeps its own id, which is not ours. Link to the id Twenty really has.
        const returned = new Set(records.map((r) => r.id as string));
        const byEmail = new Map<string, string>();
        for (const r of records) {
          const e = normaliseEmail((r.emails as { primaryEmail?: string | null } | null | undefined)?.primaryEmail);
          if (e) byEmail.set(e, r.id as string);
        }
        const rows: LinkRow[] = [];
        for (const i of items) {
          const sent = i.ref.id;
          const real = returned.has(sent) ? sent : ((i.ref.c.email && byEmail.get(i.ref.c.email)) ?? sent);
          i.ref.id = real;
          ids.set(i.ref.c.customer.key, real);
          rows.push(link(i.ref.c, real, 'ok'));
          for (const other of sharing.get(sent) ?? []) {
            ids.set(other.customer.key, real);
            rows.push(link(other, real, 'linked'));
          }
          if (i.ref.isNew) counts.created++;
          else counts.updated++;
        }
        opts.save(rows);
      },
      failed: (item, error) => {
        opts.save([link(item.ref.c, item.ref.id, 'failed', error.message)]);
        if (item.ref.isNew) ids.delete(item.ref.c.customer.key);
        for (const other of sharing.get(item.ref.id) ?? []) ids.delete(other.customer.key);
        counts.failed++;
      },
    },
  );
  return { ids, counts, pending };
}

/** Batched look-ups: one query per batch with an `or` of e-mail `in` and phone number `in`. */
async function lookUp(
  client: TwentyClient,
  model: WorkspaceModel,
  candidates: Candidate[],
  batchSize: number,
): Promise<{ byEmail: Map<string, string>; byPhone: Map<string, string> }> {
  const fields = model.objects.person.fields;
  const hasEmails = fields.emails?.type === 'EMAILS';
  const hasPhones = fields.phones?.type === 'PHONES';
  const withCalling = hasPhones; // primaryPhoneCallingCode: 2.x and late 1.x; the discovery cannot see sub-fields
  const byEmail = new Map<string, string>();
  const byPhone = new Map<string, string>();
  const keyed = candidates.filter((c) => (hasEmails && c.email) || (hasPhones && c.phone));
  if (keyed.length > batchSize) {
    // One cheap count first: on an empty workspace (first export) every batched look-up would be wasted budget.
    const [count] = await client.graphql('query', [{ field: 'people', args: 'first: 1', selection: 'totalCount' }]);
    if (count.ok && (count.data as { totalCount?: number } | null)?.totalCount === 0) return { byEmail, byPhone };
  }
  const selection = [
    'id',
    hasEmails ? 'emails { primaryEmail }' : '',
    hasPhones ? `phones { primaryPhoneNumber ${withCalling ? 'primaryPhoneCallingCode' : ''} additionalPhones }` : '',
  ]
    .filter(Boolean)
    .join(' ');
  for (let i = 0; i < keyed.length; i += batchSize) {
    const batch = keyed.slice(i, i + batchSize);
    const emails = hasEmails ? [...new Set(batch.flatMap((c) => (c.email ? [c.email] : [])))] : [];
    const phones = hasPhones ? batch.flatMap((c) => (c.phone ? [normalisePhone(c.phone)] : [])) : [];
    const numbers = [...new Set(phones.map((p) => p?.number).filter((n): n is string => !!n))];
    const or: Record<string, unknown>[] = [];
    if (emails.length) or.push({ emails: { primaryEmail: { in: emails } } });
    if (numbers.length) or.push({ phones: { primaryPhoneNumber: { in: numbers } } });
    // Then the additional phones (reference §4 PersonByPhone, §12): a JSON text match per number.
    for (const n of numbers) or.push({ phones: { additionalPhones: { like: `%${n}%` } } });
    let after: string | undefined;
    do {
      const [r] = await client.graphql('query', [
        {
          field: 'people',
          args: after ? 'filter: $filter, first: 200, after: $after' : 'filter: $filter, first: 200',
          vars: {
            filter: { type: 'PersonFilterInput', value: { or } },
            ...(after ? { after: { type: 'String', value: after } } : {}),
          },
          selection: `edges { node { ${selection} } } pageInfo { hasNextPage endCursor }`,
        },
      ]);
      if (!r.ok) throw new Error(`twenty: people look-up failed: ${r.error.message}`);
      const conn = r.data as {
        edges: {
          node: {
            id: string;
            emails?: { primaryEmail: string | null };
            phones?: {
              primaryPhoneNumber: string | null;
              primaryPhoneCallingCode?: string | null;
              additionalPhones?: unknown;
            };
          };
        }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      for (const { node } of conn.edges) {
        const e = normaliseEmail(node.emails?.primaryEmail);
        if (e && !byEmail.has(e)) byEmail.set(e, node.id);
        const p = node.phones;
        if (p?.primaryPhoneNumber) {
          const n = phoneOf(p.primaryPhoneNumber, p.primaryPhoneCallingCode);
          if (n && !byPhone.has(n.e164)) byPhone.set(n.e164, node.id);
        }
      }
      // A number only found among additional phones counts after every primary number of the page.
      for (const { node } of conn.edges) {
        for (const extra of additionalPhones(node.phones?.additionalPhones)) {
          const n = phoneOf(extra.number, extra.callingCode);
          if (n && !byPhone.has(n.e164)) byPhone.set(n.e164, node.id);
        }
      }
      after = conn.pageInfo.hasNextPage && conn.pageInfo.endCursor ? conn.pageInfo.endCursor : undefined;
    } while (after);
  }
  return { byEmail, byPhone };
}

function phoneOf(number: string | null | undefined, calling: string | null | undefined) {
  if (!number) return undefined;
  if (number.startsWith('+')) return normalisePhone(number);
  const code = calling ?? '';
  return normalisePhone(`${code.startsWith('+') ? code : `+${code}`}${number}`);
}

/** `additionalPhones` is a JSON list of `{ number, countryCode, callingCode }` (reference §5), as text or not. */
function additionalPhones(raw: unknown): { number?: string | null; callingCode?: string | null }[] {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === 'object') as { number?: string }[]) : [];
}
