/**
 * The Twenty data model the exporter wants (reference §7 recipe) and the discovery of what the workspace
 * really has: objects and fields from `/metadata`, the 2.x vs older shapes, and the fields usable for
 * writing (present with the expected type). Never select or send a field that is not in this model.
 */
import { createHash } from 'node:crypto';
import { INTENT_LABELS } from '../db/schema/classification.ts';
import type { RootCall, TwentyClient } from './client.ts';

export interface WantedField {
  name: string;
  label: string;
  type: string;
  isUnique?: boolean;
  options?: { value: string; label: string; color: string; position: number }[];
  settings?: Record<string, unknown>;
  defaultValue?: unknown;
}

const opts = (values: [string, string, string][]) =>
  values.map(([value, label, color], position) => ({ value, label, color, position }));

/** Intent select options, in the order classify knows them. */
export const INTENTS: readonly string[] = INTENT_LABELS;
const INTENT_COLORS = ['sky', 'red', 'orange', 'pink', 'green', 'purple', 'turquoise', 'blue', 'gray'];
export const LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'pt', 'nl', 'pl', 'ru', 'ar', 'tr', 'zh', 'ja', 'other'];

/** Fields of the custom `conversation` object (besides the `person` relation). */
export const CONVERSATION_FIELDS: WantedField[] = [
  { name: 'conversationKey', label: 'Conversation key', type: 'TEXT', isUnique: true },
  { name: 'matrixRoomId', label: 'Matrix room', type: 'TEXT' },
  {
    name: 'channel',
    label: 'Channel',
    type: 'SELECT',
    options: opts([
      ['WHATSAPP', 'WhatsApp', 'green'],
      ['WAZO', 'Wazo', 'blue'],
      ['MATRIX', 'Matrix', 'gray'],
    ]),
  },
  {
    name: 'sentiment',
    label: 'Sentiment',
    type: 'SELECT',
    defaultValue: "'NEUTRAL'",
    options: opts([
      ['POSITIVE', 'Positive', 'green'],
      ['NEUTRAL', 'Neutral', 'gray'],
      ['NEGATIVE', 'Negative', 'red'],
    ]),
  },
  { name: 'sentimentScore', label: 'Sentiment score', type: 'NUMBER', settings: { dataType: 'float', decimals: 2 } },
  {
    name: 'intent',
    label: 'Intent',
    type: 'SELECT',
    options: opts(INTENTS.map((i, n) => [i.toUpperCase(), cap(i), INTENT_COLORS[n]])),
  },
  {
    name: 'intents',
    label: 'Intents',
    type: 'MULTI_SELECT',
    options: opts(INTENTS.map((i, n) => [i.toUpperCase(), cap(i), INTENT_COLORS[n]])),
  },
  { name: 'keywords', label: 'Keywords', type: 'ARRAY' },
  {
    name: 'language',
    label: 'Language',
    type: 'SELECT',
    options: opts(LANGUAGES.map((l) => [l.toUpperCase(), l === 'other' ? 'Other' : l.toUpperCase(), 'gray'])),
  },
  { name: 'messageCount', label: 'Messages', type: 'NUMBER', settings: { dataType: 'int' } },
  { name: 'customerMessageCount', label: 'Customer messages', type: 'NUMBER', settings: { dataType: 'int' } },
  { name: 'agentMessageCount', label: 'Agent messages', type: 'NUMBER', settings: { dataType: 'int' } },
  { name: 'startedAt', label: 'Started at', type: 'DATE_TIME' },
  { name: 'lastMessageAt', label: 'Last message at', type: 'DATE_TIME' },
  {
    name: 'firstResponseSeconds',
    label: 'First response (s)',
    type: 'NUMBER',
    settings: { dataType: 'float', decimals: 0 },
  },
  { name: 'resolutionSeconds', label: 'Resolution (s)', type: 'NUMBER', settings: { dataType: 'float', decimals: 0 } },
  {
    name: 'status',
    label: 'Status',
    type: 'SELECT',
    options: opts([
      ['OPEN', 'Open', 'orange'],
      ['WAITING_ON_CUSTOMER', 'Waiting on customer', 'yellow'],
      ['RESOLVED', 'Resolved', 'green'],
    ]),
  },
  { name: 'summary', label: 'Summary', type: 'RICH_TEXT' },
  { name: 'matrixLink', label: 'Matrix link', type: 'LINKS' },
];

/** Optional person fields, created only with `[twenty] enrich_people = true`. */
export const PERSON_ENRICH_FIELDS: WantedField[] = [
  { name: 'lastContactAt', label: 'Last contact', type: 'DATE_TIME' },
  {
    name: 'averageSentiment',
    label: 'Average sentiment',
    type: 'NUMBER',
    settings: { dataType: 'float', decimals: 2 },
  },
  { name: 'conversationCount', label: 'Conversations', type: 'NUMBER', settings: { dataType: 'int' } },
  { name: 'channels', label: 'Channels', type: 'MULTI_SELECT', options: CONVERSATION_FIELDS[2].options },
];

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

export interface ModelField {
  name: string;
  type: string;
  isUnique: boolean;
  options: string[];
  relationType?: string;
  targetObject?: string;
}

export interface ModelObject {
  id: string;
  nameSingular: string;
  namePlural: string;
  fields: Record<string, ModelField>;
}

export interface WorkspaceModel {
  objects: Record<string, ModelObject>;
  /** `2.x` when targets are `targetPerson` and rich text is `RICH_TEXT`; `1.x` for the older shapes. */
  shape: '2.x' | '1.x';
  /** Join column of taskTarget → person: `targetPersonId` (2.x) or `personId` (older). */
  taskTargetPersonColumn: string;
  /** Rich text field type name on this server: `RICH_TEXT` (2.x) or `RICH_TEXT_V2` (older). */
  richTextType: string;
}

export const DATA_MODEL_CALL: RootCall = {
  field: 'objects',
  args: 'paging: { first: 1000 }',
  selection: `edges { node { id nameSingular namePlural labelSingular isActive isSystem
    fieldsList { id name label type isActive isNullable isUnique options settings
      relation { type targetObjectMetadata { id nameSingular } targetFieldMetadata { id name } } } } }`,
};

interface RawField {
  name: string;
  type: string;
  isActive: boolean | null;
  isUnique: boolean | null;
  options: unknown;
  relation: { type: string; targetObjectMetadata: { nameSingular: string } } | null;
}
interface RawObject {
  id: string;
  nameSingular: string;
  namePlural: string;
  isActive: boolean;
  fieldsList: RawField[];
}

/** Turns the `objects` answer into a {@link WorkspaceModel}. Pure. */
export function parseDataModel(data: unknown): WorkspaceModel {
  const edges = (data as { edges?: { node: RawObject }[] } | null)?.edges;
  if (!Array.isArray(edges)) throw new Error('unexpected /metadata objects answer (no edges)');
  const objects: Record<string, ModelObject> = {};
  for (const { node } of edges) {
    if (!node.isActive) continue;
    const fields: Record<string, ModelField> = {};
    for (const f of node.fieldsList ?? []) {
      if (f.isActive === false) continue;
      fields[f.name] = {
        name: f.name,
        type: f.type,
        isUnique: f.isUnique ?? false,
        options: Array.isArray(f.options) ? (f.options as { value: string }[]).map((o) => o.value) : [],
        relationType: f.relation?.type,
        targetObject: f.relation?.targetObjectMetadata.nameSingular,
      };
    }
    objects[node.nameSingular] = { id: node.id, nameSingular: node.nameSingular, namePlural: node.namePlural, fields };
  }
  const taskTarget = objects.taskTarget?.fields ?? {};
  const richTextType = objects.task?.fields.bodyV2?.type ?? 'RICH_TEXT';
  const modern = 'targetPerson' in taskTarget || (!('person' in taskTarget) && richTextType === 'RICH_TEXT');
  return {
    objects,
    shape: modern ? '2.x' : '1.x',
    taskTargetPersonColumn: 'targetPerson' in taskTarget ? 'targetPersonId' : 'personId',
    richTextType,
  };
}

export async function discoverModel(client: TwentyClient): Promise<WorkspaceModel> {
  const [r] = await client.metadata('query', [DATA_MODEL_CALL]);
  if (!r.ok) throw new Error(`twenty: cannot read the data model: ${r.error.message}`);
  return parseDataModel(r.data);
}

/** The type a wanted field must have on this server (rich text was named RICH_TEXT_V2 before 2.x). */
export function expectedType(model: WorkspaceModel, wanted: WantedField): string {
  return wanted.type === 'RICH_TEXT' ? model.richTextType : wanted.type;
}

/** Names of `object`'s wanted fields that exist with the expected type: the ones safe to write. */
export function usableFields(model: WorkspaceModel, object: string, wanted: WantedField[]): Set<string> {
  const have = model.objects[object]?.fields ?? {};
  return new Set(wanted.filter((w) => have[w.name]?.type === expectedType(model, w)).map((w) => w.name));
}

/** Identifies the wanted model; a cached discovery is reused only while this is unchanged. */
export function specHash(url: string, enrichPeople: boolean): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, url, enrichPeople, CONVERSATION_FIELDS, PERSON_ENRICH_FIELDS }))
    .digest('hex')
    .slice(0, 16);
}
