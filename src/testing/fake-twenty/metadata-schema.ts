/**
 * The fake `/metadata` GraphQL API (reference §7): `objects(paging)` with `fieldsList`, `createOneObject`,
 * `createOneField` (relations create their inverse field). 2.x has no `isCustom` on objects and fields;
 * the 1.x mode keeps it and names the rich-text type `RICH_TEXT_V2`.
 */
import { buildSchema, GraphQLError, type GraphQLSchema } from 'graphql';
import { type FakeField, type FakeObject, makeField, type TwentyVersion } from './data-model.ts';
import { JSONScalar, UUIDScalar } from './core-schema.ts';

const FIELD_TYPES = [
  'TEXT',
  'NUMBER',
  'NUMERIC',
  'BOOLEAN',
  'DATE',
  'DATE_TIME',
  'UUID',
  'SELECT',
  'MULTI_SELECT',
  'RATING',
  'CURRENCY',
  'FULL_NAME',
  'EMAILS',
  'PHONES',
  'LINKS',
  'ADDRESS',
  'ARRAY',
  'RAW_JSON',
  'RICH_TEXT',
  'ACTOR',
  'FILES',
  'POSITION',
  'TS_VECTOR',
  'RELATION',
  'MORPH_RELATION',
];

function sdl(version: TwentyVersion): string {
  const custom = version === '1.x' ? 'isCustom: Boolean!' : '';
  const types = version === '1.x' ? [...FIELD_TYPES, 'RICH_TEXT_V2'] : FIELD_TYPES;
  return `
scalar JSON
scalar UUID
input CursorPaging { first: Int, after: String }
type PageInfo { hasNextPage: Boolean!, endCursor: String }
enum FieldMetadataType { ${types.join(' ')} }
enum RelationType { MANY_TO_ONE ONE_TO_MANY }
type RelationObject { id: UUID!, nameSingular: String! }
type RelationField { id: UUID!, name: String! }
type Relation { type: RelationType!, targetObjectMetadata: RelationObject!, targetFieldMetadata: RelationField! }
type Field { id: UUID!, name: String!, label: String!, type: FieldMetadataType!, isActive: Boolean, isNullable: Boolean,
  isUnique: Boolean, options: JSON, settings: JSON, relation: Relation ${custom} }
type Object { id: UUID!, nameSingular: String!, namePlural: String!, labelSingular: String!, labelPlural: String!,
  icon: String, description: String, isActive: Boolean!, isSystem: Boolean!, fieldsList: [Field!]! ${custom} }
type ObjectEdge { node: Object!, cursor: String! }
type ObjectConnection { edges: [ObjectEdge!]!, pageInfo: PageInfo!, totalCount: Int! }
type Query { objects(paging: CursorPaging!): ObjectConnection!, object(id: UUID!): Object }
input CreateObjectInput { nameSingular: String!, namePlural: String!, labelSingular: String!, labelPlural: String!,
  description: String, icon: String, shortcut: String, color: String, skipNameField: Boolean, isLabelSyncedWithName: Boolean }
input CreateOneObjectInput { object: CreateObjectInput! }
input CreateFieldInput { objectMetadataId: UUID!, type: FieldMetadataType!, name: String!, label: String!,
  description: String, icon: String, isNullable: Boolean, isUnique: Boolean, defaultValue: JSON, options: JSON,
  settings: JSON, isLabelSyncedWithName: Boolean, relationCreationPayload: JSON, morphRelationsCreationPayload: JSON }
input CreateOneFieldMetadataInput { field: CreateFieldInput! }
type Mutation { createOneObject(input: CreateOneObjectInput!): Object!, createOneField(input: CreateOneFieldMetadataInput!): Field! }
`;
}

const NAME = /^[a-z][a-zA-Z0-9]*$/;
const SELECT_VALUE = /^[_A-Za-z][_0-9A-Za-z]+$/;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', userFriendlyMessage: message } });
}

export interface MetadataHost {
  objects: FakeObject[];
  /** Called after each change; the server rebuilds the core schema (possibly with a lag). */
  changed(): void;
  guard(rootField: string): void;
}

export function buildMetadataSchema(
  version: TwentyVersion,
  host: MetadataHost,
): { schema: GraphQLSchema; root: Record<string, unknown> } {
  const schema = buildSchema(sdl(version));
  Object.assign(schema.getType('UUID') as object, {
    parseValue: UUIDScalar.parseValue,
    serialize: UUIDScalar.serialize,
  });
  Object.assign(schema.getType('JSON') as object, {
    parseValue: JSONScalar.parseValue,
    serialize: JSONScalar.serialize,
  });
  const byId = (id: string) => host.objects.find((o) => o.id === id);
  const fieldOut = (owner: FakeObject, f: FakeField) => {
    const target = f.relation ? host.objects.find((o) => o.nameSingular === f.relation?.targetObject) : undefined;
    const targetField = target?.fields.find((x) => x.name === f.relation?.targetField);
    return {
      ...f,
      relation:
        f.relation && target
          ? {
              type: f.relation.type,
              targetObjectMetadata: { id: target.id, nameSingular: target.nameSingular },
              targetFieldMetadata: { id: targetField?.id ?? owner.id, name: f.relation.targetField },
            }
          : null,
    };
  };
  const objectOut = (o: FakeObject) => ({ ...o, fieldsList: o.fields.map((f) => fieldOut(o, f)) });
  const root = {
    objects: (args: { paging: { first?: number } }) => {
      host.guard('objects');
      const list = host.objects.slice(0, args.paging.first ?? 10);
      return {
        edges: list.map((o) => ({ node: objectOut(o), cursor: o.id })),
        pageInfo: { hasNextPage: list.length < host.objects.length, endCursor: list.at(-1)?.id ?? null },
        totalCount: host.objects.length,
      };
    },
    object: (args: { id: string }) => {
      host.guard('object');
      const o = byId(args.id);
      return o ? objectOut(o) : null;
    },
    createOneObject: (args: { input: { object: Record<string, unknown> } }) => {
      host.guard('createOneObject');
      const input = args.input.object as {
        nameSingular: string;
        namePlural: string;
        labelSingular: string;
        labelPlural: string;
        icon?: string;
        description?: string;
        skipNameField?: boolean;
      };
      if (!NAME.test(input.nameSingular) || !NAME.test(input.namePlural)) throw badInput('Name should be in camelCase');
      if (
        host.objects.some((o) =>
          [o.nameSingular, o.namePlural].some((n) => n === input.nameSingular || n === input.namePlural),
        )
      ) {
        throw badInput(`Object already exists: ${input.nameSingular}`);
      }
      const fields = input.skipNameField ? [] : [makeField('name', 'TEXT', { label: 'Name' })];
      const obj: FakeObject = {
        id: crypto.randomUUID(),
        nameSingular: input.nameSingular,
        namePlural: input.namePlural,
        labelSingular: input.labelSingular,
        labelPlural: input.labelPlural,
        icon: input.icon ?? null,
        description: input.description ?? null,
        isActive: true,
        isSystem: false,
        isCustom: true,
        fields,
      };
      host.objects.push(obj);
      host.changed();
      return objectOut(obj);
    },
    createOneField: (args: { input: { field: Record<string, unknown> } }) => {
      host.guard('createOneField');
      const input = args.input.field as {
        objectMetadataId: string;
        type: string;
        name: string;
        label: string;
        isUnique?: boolean;
        isNullable?: boolean;
        options?: { value: string }[];
        settings?: unknown;
        relationCreationPayload?: {
          type: 'MANY_TO_ONE' | 'ONE_TO_MANY';
          targetObjectMetadataId: string;
          targetFieldLabel: string;
          targetFieldName?: string;
        };
      };
      const owner = byId(input.objectMetadataId);
      if (!owner) throw new GraphQLError('Object metadata not found', { extensions: { code: 'NOT_FOUND' } });
      if (!NAME.test(input.name)) throw badInput('Name should be in camelCase');
      if (owner.fields.some((f) => f.name === input.name)) throw badInput(`Field already exists: ${input.name}`);
      if (input.type === 'SELECT' || input.type === 'MULTI_SELECT') {
        if (!Array.isArray(input.options) || input.options.length === 0)
          throw badInput('Options are required for select fields');
        for (const o of input.options)
          if (!SELECT_VALUE.test(o.value)) throw badInput(`Invalid option value ${o.value}`);
      }
      if (version === '2.x' && input.type === 'RICH_TEXT_V2') throw badInput('Unknown field type RICH_TEXT_V2');
      const field = makeField(input.name, input.type, {
        label: input.label,
        isUnique: input.isUnique ?? false,
        isNullable: input.isNullable ?? true,
        isCustom: true,
        options: input.options ?? null,
        settings: input.settings ?? null,
      });
      if (input.type === 'RELATION') {
        const p = input.relationCreationPayload;
        const target = p ? byId(p.targetObjectMetadataId) : undefined;
        if (!p || !target) throw badInput('relationCreationPayload with a valid targetObjectMetadataId is required');
        const inverseName = p.targetFieldName ?? owner.namePlural;
        if (target.fields.some((f) => f.name === inverseName)) throw badInput(`Field already exists: ${inverseName}`);
        field.relation = { type: p.type, targetObject: target.nameSingular, targetField: inverseName };
        target.fields.push(
          makeField(inverseName, 'RELATION', {
            label: p.targetFieldLabel,
            isCustom: true,
            relation: {
              type: p.type === 'MANY_TO_ONE' ? 'ONE_TO_MANY' : 'MANY_TO_ONE',
              targetObject: owner.nameSingular,
              targetField: input.name,
            },
          }),
        );
      }
      owner.fields.push(field);
      host.changed();
      return fieldOut(owner, field);
    },
  };
  return { schema, root };
}
