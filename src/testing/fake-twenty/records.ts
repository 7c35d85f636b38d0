/**
 * Record storage of the fake Twenty: filters, soft delete, and `createMany` with `upsert` matching on `id`
 * and unique fields, soft-deleted rows included (reference §4, pain point 3). Value checks follow §5:
 * phones parsed with libphonenumber like the server does, e-mails validated, SELECT values checked.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { FakeField, FakeObject } from './data-model.ts';

export type RecordRow = Record<string, unknown> & { id: string; deletedAt: string | null };

const UUID_V1_5 = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isUuidV1to5(value: unknown): value is string {
  return typeof value === 'string' && UUID_V1_5.test(value);
}

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', userFriendlyMessage: message } });
}

/** The unique key values a record claims: `emails.primaryEmail` for EMAILS, the value for scalar fields. */
function uniqueKeys(obj: FakeObject, row: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const f of obj.fields) {
    if (!f.isUnique) continue;
    const v = row[f.name];
    if (f.type === 'EMAILS') {
      const email = (v as { primaryEmail?: string | null } | null | undefined)?.primaryEmail;
      if (typeof email === 'string') keys.push(`${f.name}:${email.toLowerCase()}`);
    } else if (v !== null && v !== undefined) keys.push(`${f.name}:${String(v)}`);
  }
  return keys;
}

function normalisePhones(value: Record<string, unknown>): Record<string, unknown> {
  const number = value.primaryPhoneNumber;
  if (typeof number !== 'string' || number === '')
    return { ...value, additionalPhones: value.additionalPhones ?? null };
  const calling = typeof value.primaryPhoneCallingCode === 'string' ? value.primaryPhoneCallingCode : '';
  const text = number.startsWith('+') ? number : `${calling.startsWith('+') ? calling : `+${calling}`}${number}`;
  const parsed = parsePhoneNumberFromString(text);
  if (!parsed?.isValid()) throw badInput(`Invalid phone number: ${number}`);
  if (calling && number.startsWith('+') && calling !== `+${parsed.countryCallingCode}`) {
    throw badInput(`Provided country code and calling code are conflicting for ${number}`);
  }
  return {
    primaryPhoneNumber: parsed.nationalNumber,
    primaryPhoneCallingCode: `+${parsed.countryCallingCode}`,
    primaryPhoneCountryCode: parsed.country ?? value.primaryPhoneCountryCode ?? '',
    additionalPhones: value.additionalPhones ?? null,
  };
}

/** Validates and normalises one field value the way the server's record transformer does. */
function transformValue(field: FakeField, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (field.type) {
    case 'EMAILS': {
      const v = value as { primaryEmail?: string | null; additionalEmails?: string[] | null };
      if (typeof v.primaryEmail === 'string' && !EMAIL.test(v.primaryEmail)) {
        throw badInput(`Invalid email: ${v.primaryEmail}`);
      }
      return { primaryEmail: v.primaryEmail ?? null, additionalEmails: v.additionalEmails ?? null };
    }
    case 'PHONES':
      return normalisePhones(value as Record<string, unknown>);
    case 'SELECT': {
      const options = (field.options as { value: string }[] | null) ?? [];
      if (!options.some((o) => o.value === value)) throw badInput(`Invalid value '${String(value)}' for ${field.name}`);
      return value;
    }
    case 'MULTI_SELECT': {
      const options = (field.options as { value: string }[] | null) ?? [];
      for (const v of value as string[]) {
        if (!options.some((o) => o.value === v)) throw badInput(`Invalid value '${v}' for ${field.name}`);
      }
      return value;
    }
    default:
      return value;
  }
}

export class RecordStore {
  readonly rows = new Map<string, Map<string, RecordRow>>();
  maxRecords: number;
  /** Test hook: a message for a record the server should refuse (fails the whole createMany). */
  reject: ((objectName: string, data: Record<string, unknown>) => string | undefined) | undefined;
  private readonly now: () => number;

  constructor(opts: { maxRecords: number; now: () => number }) {
    this.maxRecords = opts.maxRecords;
    this.now = opts.now;
  }

  table(obj: FakeObject): Map<string, RecordRow> {
    let t = this.rows.get(obj.nameSingular);
    if (!t) {
      t = new Map();
      this.rows.set(obj.nameSingular, t);
    }
    return t;
  }

  private transform(obj: FakeObject, input: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) {
      if (k === 'id') {
        if (!isUuidV1to5(v)) throw badInput(`Invalid UUID: ${String(v)}`);
        out.id = v;
        continue;
      }
      const field = obj.fields.find((f) => f.name === k);
      out[k] = field ? transformValue(field, v) : v;
    }
    return out;
  }

  /** `createMany(data, upsert)`: the whole call fails if any record is invalid (nothing is written). */
  createMany(obj: FakeObject, data: Record<string, unknown>[], upsert: boolean): RecordRow[] {
    if (data.length > this.maxRecords) throw badInput(`Maximum number of records to upsert is ${this.maxRecords}`);
    const table = this.table(obj);
    for (const d of data) {
      const reason = this.reject?.(obj.nameSingular, d);
      if (reason) throw badInput(reason);
    }
    const transformed = data.map((d) => this.transform(obj, d));
    const plan: { existing: RecordRow | undefined; values: Record<string, unknown> }[] = [];
    const claimed = new Set<string>();
    for (const values of transformed) {
      const keys = uniqueKeys(obj, values);
      let existing: RecordRow | undefined;
      if (upsert) {
        existing = typeof values.id === 'string' ? table.get(values.id) : undefined;
        existing ??= this.findByUnique(table, obj, keys);
      } else {
        if (typeof values.id === 'string' && table.has(values.id)) throw conflict(`Record ${values.id} already exists`);
        if (this.findByUnique(table, obj, keys)) throw conflict(`A duplicate entry was detected (${keys.join(', ')})`);
      }
      for (const k of keys) {
        const other = this.findByUnique(table, obj, [k]);
        if (other && other !== existing) throw conflict(`A duplicate entry was detected (${k})`);
        if (claimed.has(k)) throw conflict(`A duplicate entry was detected in the batch (${k})`);
        claimed.add(k);
      }
      plan.push({ existing, values });
    }
    const at = new Date(this.now()).toISOString();
    return plan.map(({ existing, values }) => {
      if (existing) {
        const before = uniqueKeys(obj, existing);
        Object.assign(existing, values, { id: existing.id, deletedAt: null, updatedAt: at });
        this.reindex(obj, existing, before);
        return existing;
      }
      const row: RecordRow = {
        createdAt: at,
        updatedAt: at,
        ...values,
        id: (values.id as string) ?? randomUUID(),
        deletedAt: null,
      };
      table.set(row.id, row);
      this.reindex(obj, row, []);
      return row;
    });
  }

  private findByUnique(_table: Map<string, RecordRow>, obj: FakeObject, keys: string[]): RecordRow | undefined {
    const index = this.unique.get(obj.nameSingular);
    for (const k of keys) {
      const row = index?.get(k);
      if (row) return row;
    }
    return undefined;
  }

  /** Unique-key index per object (soft-deleted rows stay in it: they still block plain creates). */
  private readonly unique = new Map<string, Map<string, RecordRow>>();

  private reindex(obj: FakeObject, row: RecordRow, before: string[]): void {
    let index = this.unique.get(obj.nameSingular);
    if (!index) {
      index = new Map();
      this.unique.set(obj.nameSingular, index);
    }
    for (const k of before) if (index.get(k) === row) index.delete(k);
    for (const k of uniqueKeys(obj, row)) index.set(k, row);
  }

  update(obj: FakeObject, id: string, data: Record<string, unknown>): RecordRow {
    const row = this.table(obj).get(id);
    if (!row || row.deletedAt) throw new GraphQLError(`Record ${id} not found`, { extensions: { code: 'NOT_FOUND' } });
    const before = uniqueKeys(obj, row);
    Object.assign(row, this.transform(obj, data), { id, updatedAt: new Date(this.now()).toISOString() });
    this.reindex(obj, row, before);
    return row;
  }

  softDelete(rows: RecordRow[]): RecordRow[] {
    const at = new Date(this.now()).toISOString();
    for (const r of rows) r.deletedAt = at;
    return rows;
  }

  /** Rows matching `filter`; soft-deleted rows only when the filter mentions `deletedAt`. */
  find(obj: FakeObject, filter: Record<string, unknown> | undefined): RecordRow[] {
    const withDeleted = filter !== undefined && JSON.stringify(filter).includes('"deletedAt"');
    const out: RecordRow[] = [];
    for (const row of this.table(obj).values()) {
      if (!withDeleted && row.deletedAt) continue;
      if (!filter || matches(row, filter)) out.push(row);
    }
    return out;
  }
}

function conflict(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'CONFLICT', userFriendlyMessage: message } });
}

function matches(row: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  for (const [key, cond] of Object.entries(filter)) {
    if (cond === undefined || cond === null) continue;
    if (key === 'and') {
      if (!(cond as Record<string, unknown>[]).every((f) => matches(row, f))) return false;
    } else if (key === 'or') {
      if (!(cond as Record<string, unknown>[]).some((f) => matches(row, f))) return false;
    } else if (key === 'not') {
      if (matches(row, cond as Record<string, unknown>)) return false;
    } else if (isOperatorSet(cond)) {
      if (!compare(row[key], cond as Record<string, unknown>)) return false;
    } else {
      const nested = (row[key] ?? {}) as Record<string, unknown>;
      if (!matches(nested, cond as Record<string, unknown>)) return false;
    }
  }
  return true;
}

const OPS = new Set(['eq', 'neq', 'in', 'is', 'like', 'ilike', 'gt', 'gte', 'lt', 'lte', 'startsWith']);

function isOperatorSet(cond: unknown): boolean {
  return typeof cond === 'object' && cond !== null && Object.keys(cond).some((k) => OPS.has(k));
}

function compare(value: unknown, ops: Record<string, unknown>): boolean {
  for (const [op, arg] of Object.entries(ops)) {
    if (arg === undefined || arg === null) continue;
    const v = value;
    switch (op) {
      case 'eq':
        if (v !== arg) return false;
        break;
      case 'neq':
        if (v === arg) return false;
        break;
      case 'in':
        if (!(arg as unknown[]).includes(v)) return false;
        break;
      case 'is':
        if ((arg === 'NULL') !== (v === null || v === undefined)) return false;
        break;
      case 'like':
      case 'ilike': {
        const re = new RegExp(
          `^${String(arg)
            .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
            .replace(/%/g, '.*')}$`,
          'i',
        );
        // JSON values (additionalPhones…) are matched on their JSON text, as Postgres does for jsonb::text.
        const text = typeof v === 'string' ? v : v === null || v === undefined ? undefined : JSON.stringify(v);
        if (text === undefined || !re.test(text)) return false;
        break;
      }
      case 'gt':
        if (!((v as number) > (arg as number))) return false;
        break;
      case 'gte':
        if (!((v as number) >= (arg as number))) return false;
        break;
      case 'lt':
        if (!((v as number) < (arg as number))) return false;
        break;
      case 'lte':
        if (!((v as number) <= (arg as number))) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
