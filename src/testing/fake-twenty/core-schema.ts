/**
 * Generates the fake workspace's core GraphQL schema (`POST /graphql`) from its data model, as Twenty does
 * per workspace (reference §4): `<plural>(filter, first, after)` connections, `create<Plural>(data, upsert)`,
 * `create<One>`, `update<One>(id, data)`, `delete<One>(id)` and `delete<Plural>(filter)` (soft deletes).
 * Unknown fields in a document fail validation of the whole document, like the real server.
 */
import {
  GraphQLBoolean,
  GraphQLError,
  GraphQLFloat,
  type GraphQLFieldConfigMap,
  type GraphQLInputFieldConfigMap,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
} from 'graphql';
import { type FakeField, type FakeObject, pluralName, type TwentyVersion, typeName } from './data-model.ts';
import { isUuidV1to5, type RecordRow, type RecordStore } from './records.ts';

export const UUIDScalar = new GraphQLScalarType({
  name: 'UUID',
  serialize: (v) => v,
  parseValue: (v) => {
    if (!isUuidV1to5(v))
      throw new GraphQLError(`Invalid UUID: ${String(v)}`, { extensions: { code: 'BAD_USER_INPUT' } });
    return v;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !isUuidV1to5(ast.value)) throw new GraphQLError('Invalid UUID');
    return ast.value;
  },
});

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: () => {
    throw new GraphQLError('JSON literals are not supported by the fake; use variables');
  },
});

type Composite = { out: GraphQLObjectType; create: GraphQLInputObjectType; filter: GraphQLInputObjectType };

function composite(name: string, fields: Record<string, 'string' | 'strings' | 'json'>): Composite {
  const outFields: GraphQLFieldConfigMap<unknown, unknown> = {};
  const inFields: GraphQLInputFieldConfigMap = {};
  const filterFields: GraphQLInputFieldConfigMap = {};
  for (const [k, kind] of Object.entries(fields)) {
    const t = kind === 'string' ? GraphQLString : kind === 'strings' ? new GraphQLList(GraphQLString) : JSONScalar;
    outFields[k] = { type: t };
    inFields[k] = { type: t };
    if (kind === 'string') filterFields[k] = { type: StringFilter };
    // RAW_JSON-like sub-fields (additionalPhones, secondaryLinks) are filtered as JSON text (reference §4).
    if (kind === 'json') filterFields[k] = { type: RawJsonFilter };
  }
  return {
    out: new GraphQLObjectType({ name, fields: outFields }),
    create: new GraphQLInputObjectType({ name: `${name}CreateInput`, fields: inFields }),
    filter: new GraphQLInputObjectType({ name: `${name}Filter`, fields: filterFields }),
  };
}

const StringFilter = new GraphQLInputObjectType({
  name: 'StringFilter',
  fields: {
    eq: { type: GraphQLString },
    neq: { type: GraphQLString },
    in: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) },
    like: { type: GraphQLString },
    ilike: { type: GraphQLString },
    startsWith: { type: GraphQLString },
    is: { type: GraphQLString },
  },
});
const RawJsonFilter = new GraphQLInputObjectType({
  name: 'RawJsonFilter',
  fields: { like: { type: GraphQLString }, is: { type: GraphQLString } },
});
const FloatFilter = new GraphQLInputObjectType({
  name: 'FloatFilter',
  fields: {
    ...Object.fromEntries(['eq', 'neq', 'gt', 'gte', 'lt', 'lte'].map((k) => [k, { type: GraphQLFloat }])),
    in: { type: new GraphQLList(new GraphQLNonNull(GraphQLFloat)) },
    is: { type: GraphQLString },
  },
});
const UUIDFilter = new GraphQLInputObjectType({
  name: 'UUIDFilter',
  fields: {
    eq: { type: UUIDScalar },
    neq: { type: UUIDScalar },
    in: { type: new GraphQLList(new GraphQLNonNull(UUIDScalar)) },
    is: { type: GraphQLString },
  },
});
const DateFilter = new GraphQLInputObjectType({
  name: 'DateFilter',
  fields: Object.fromEntries(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'is'].map((k) => [k, { type: GraphQLString }])),
});
const PageInfo = new GraphQLObjectType({
  name: 'PageInfo',
  fields: {
    hasNextPage: { type: GraphQLBoolean },
    hasPreviousPage: { type: GraphQLBoolean },
    startCursor: { type: GraphQLString },
    endCursor: { type: GraphQLString },
  },
});

/** Hook the server installs to count one rate-limit token per root field and to inject failures. */
export type RootGuard = (rootField: string) => void;

export function buildCoreSchema(
  objects: FakeObject[],
  store: RecordStore,
  version: TwentyVersion,
  guard: RootGuard,
): GraphQLSchema {
  const composites: Record<string, Composite> = {
    FULL_NAME: composite('FullName', { firstName: 'string', lastName: 'string' }),
    EMAILS: composite('Emails', { primaryEmail: 'string', additionalEmails: 'strings' }),
    PHONES: composite('Phones', {
      primaryPhoneNumber: 'string',
      primaryPhoneCountryCode: 'string',
      primaryPhoneCallingCode: 'string',
      additionalPhones: 'json',
    }),
    LINKS: composite('Links', { primaryLinkUrl: 'string', primaryLinkLabel: 'string', secondaryLinks: 'json' }),
    [version === '2.x' ? 'RICH_TEXT' : 'RICH_TEXT_V2']: composite('RichTextV2', {
      blocknote: 'string',
      markdown: 'string',
    }),
  };
  const scalarOf = (
    f: FakeField,
  ): { out: GraphQLOutputType & GraphQLInputType; filter?: GraphQLInputObjectType } | undefined => {
    switch (f.type) {
      case 'TEXT':
      case 'SELECT':
      case 'DATE_TIME':
      case 'DATE':
        return { out: GraphQLString, filter: f.type.startsWith('DATE') ? DateFilter : StringFilter };
      case 'RICH_TEXT':
        return version === '1.x' ? { out: GraphQLString, filter: StringFilter } : undefined;
      case 'NUMBER':
      case 'NUMERIC':
      case 'RATING':
        return { out: GraphQLFloat, filter: FloatFilter };
      case 'BOOLEAN':
        return { out: GraphQLBoolean };
      case 'UUID':
        return { out: UUIDScalar, filter: UUIDFilter };
      case 'MULTI_SELECT':
      case 'ARRAY':
        return { out: new GraphQLList(GraphQLString) };
      case 'RAW_JSON':
        return { out: JSONScalar };
      default:
        return undefined;
    }
  };

  const outTypes = new Map<string, GraphQLObjectType>();
  const query: GraphQLFieldConfigMap<unknown, unknown> = {};
  const mutation: GraphQLFieldConfigMap<unknown, unknown> = {};
  const byName = new Map(objects.map((o) => [o.nameSingular, o]));

  for (const obj of objects.filter((o) => o.isActive)) {
    const T = typeName(obj.nameSingular);
    const P = pluralName(obj.namePlural);
    const filterFields: GraphQLInputFieldConfigMap = {
      id: { type: UUIDFilter },
      createdAt: { type: DateFilter },
      updatedAt: { type: DateFilter },
      deletedAt: { type: DateFilter },
    };
    const createFields: GraphQLInputFieldConfigMap = { id: { type: UUIDScalar } };
    const out = new GraphQLObjectType({
      name: T,
      fields: () => {
        const fields: GraphQLFieldConfigMap<RecordRow, unknown> = {
          id: { type: new GraphQLNonNull(UUIDScalar) },
          createdAt: { type: GraphQLString },
          updatedAt: { type: GraphQLString },
          deletedAt: { type: GraphQLString },
        };
        for (const f of obj.fields.filter((x) => x.isActive)) {
          if (f.type === 'RELATION' && f.relation?.type === 'MANY_TO_ONE') {
            const target = byName.get(f.relation.targetObject);
            const targetType = target ? outTypes.get(target.nameSingular) : undefined;
            fields[`${f.name}Id`] = { type: UUIDScalar };
            if (targetType) {
              fields[f.name] = {
                type: targetType,
                resolve: (row) => (target ? store.table(target).get(row[`${f.name}Id`] as string) : undefined),
              };
            }
            continue;
          }
          const c = composites[f.type];
          const s = scalarOf(f);
          if (c) fields[f.name] = { type: c.out };
          else if (s) fields[f.name] = { type: s.out };
        }
        return fields;
      },
    });
    outTypes.set(obj.nameSingular, out);
    for (const f of obj.fields.filter((x) => x.isActive)) {
      if (f.type === 'RELATION') {
        if (f.relation?.type === 'MANY_TO_ONE') {
          createFields[`${f.name}Id`] = { type: UUIDScalar };
          filterFields[`${f.name}Id`] = { type: UUIDFilter };
        }
        continue;
      }
      const c = composites[f.type];
      const s = scalarOf(f);
      if (c) {
        createFields[f.name] = { type: c.create };
        filterFields[f.name] = { type: c.filter };
      } else if (s) {
        createFields[f.name] = { type: s.out };
        if (s.filter) filterFields[f.name] = { type: s.filter };
      }
    }
    const Filter: GraphQLInputObjectType = new GraphQLInputObjectType({
      name: `${T}FilterInput`,
      fields: () => ({
        ...filterFields,
        and: { type: new GraphQLList(new GraphQLNonNull(Filter)) },
        or: { type: new GraphQLList(new GraphQLNonNull(Filter)) },
        not: { type: Filter },
      }),
    });
    const CreateInput = new GraphQLInputObjectType({ name: `${T}CreateInput`, fields: createFields });
    const UpdateInput = new GraphQLInputObjectType({ name: `${T}UpdateInput`, fields: createFields });
    const Edge = new GraphQLObjectType({
      name: `${T}Edge`,
      fields: { node: { type: out }, cursor: { type: GraphQLString } },
    });
    const Connection = new GraphQLObjectType({
      name: `${T}Connection`,
      fields: {
        edges: { type: new GraphQLList(new GraphQLNonNull(Edge)) },
        pageInfo: { type: PageInfo },
        totalCount: { type: GraphQLInt },
      },
    });
    const guarded =
      <A>(name: string, fn: (args: A) => unknown) =>
      (_src: unknown, args: A) => {
        guard(name);
        return fn(args);
      };
    query[obj.namePlural] = {
      type: Connection,
      args: {
        filter: { type: Filter },
        orderBy: { type: JSONScalar },
        first: { type: GraphQLInt },
        after: { type: GraphQLString },
        offset: { type: GraphQLInt },
      },
      resolve: guarded(
        obj.namePlural,
        (a: { filter?: Record<string, unknown>; first?: number; after?: string; offset?: number }) => {
          const all = store.find(obj, a.filter);
          const start = a.after ? Number(Buffer.from(a.after, 'base64url').toString()) + 1 : (a.offset ?? 0);
          const size = Math.min(a.first ?? store.maxRecords, store.maxRecords);
          const page = all.slice(start, start + size);
          return {
            edges: page.map((node, i) => ({ node, cursor: Buffer.from(String(start + i)).toString('base64url') })),
            pageInfo: {
              hasNextPage: start + size < all.length,
              hasPreviousPage: start > 0,
              endCursor: page.length ? Buffer.from(String(start + page.length - 1)).toString('base64url') : null,
            },
            totalCount: all.length,
          };
        },
      ),
    };
    mutation[`create${P}`] = {
      type: new GraphQLList(new GraphQLNonNull(out)),
      args: {
        data: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(CreateInput))) },
        upsert: { type: GraphQLBoolean },
      },
      resolve: guarded(`create${P}`, (a: { data: Record<string, unknown>[]; upsert?: boolean }) =>
        store.createMany(obj, a.data, a.upsert ?? false),
      ),
    };
    mutation[`create${T}`] = {
      type: out,
      args: { data: { type: new GraphQLNonNull(CreateInput) }, upsert: { type: GraphQLBoolean } },
      resolve: guarded(
        `create${T}`,
        (a: { data: Record<string, unknown>; upsert?: boolean }) =>
          store.createMany(obj, [a.data], a.upsert ?? false)[0],
      ),
    };
    mutation[`update${T}`] = {
      type: out,
      args: { id: { type: new GraphQLNonNull(UUIDScalar) }, data: { type: new GraphQLNonNull(UpdateInput) } },
      resolve: guarded(`update${T}`, (a: { id: string; data: Record<string, unknown> }) =>
        store.update(obj, a.id, a.data),
      ),
    };
    mutation[`delete${T}`] = {
      type: out,
      args: { id: { type: new GraphQLNonNull(UUIDScalar) } },
      resolve: guarded(
        `delete${T}`,
        (a: { id: string }) => store.softDelete(store.find(obj, { id: { eq: a.id } }))[0] ?? null,
      ),
    };
    mutation[`delete${P}`] = {
      type: new GraphQLList(new GraphQLNonNull(out)),
      args: { filter: { type: new GraphQLNonNull(Filter) } },
      resolve: guarded(`delete${P}`, (a: { filter: Record<string, unknown> }) => {
        const rows = store.find(obj, a.filter);
        if (rows.length > 100)
          throw new GraphQLError('Maximum number of affected records is 100', {
            extensions: { code: 'BAD_USER_INPUT' },
          });
        return store.softDelete(rows);
      }),
    };
  }
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: query }),
    mutation: new GraphQLObjectType({ name: 'Mutation', fields: mutation }),
  });
}
