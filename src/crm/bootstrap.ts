/**
 * Idempotent data-model bootstrap (reference §7): create the custom `conversation` object, its missing
 * fields and the `person` relation (inverse `conversations`), optional person enrichment fields; never
 * change an existing field (drift is logged instead); then poll until the core API can query it.
 */
import type { Logger } from '../log.ts';
import { type RootResult, TwentySchemaError, type TwentyClient } from './client.ts';
import {
  CONVERSATION_FIELDS,
  discoverModel,
  expectedType,
  PERSON_ENRICH_FIELDS,
  type WantedField,
  type WorkspaceModel,
} from './model.ts';
import type { Sleep } from './token-bucket.ts';

export interface BootstrapResult {
  model: WorkspaceModel;
  /** Metadata created in this run (`conversation`, `conversation.sentiment`, …). */
  created: string[];
  /** Human-readable drift found (`conversation.sentiment is TEXT, expected SELECT`). */
  drift: string[];
}

const ALREADY_EXISTS = /already exists|duplicate|not available/i;

function failed(r: RootResult, what: string): Error | undefined {
  if (r.ok) return undefined;
  return new Error(`twenty: cannot create ${what}: ${r.error.message}`);
}

async function createField(
  client: TwentyClient,
  objectId: string,
  w: WantedField,
  extra: Record<string, unknown> = {},
): Promise<RootResult> {
  const field: Record<string, unknown> = {
    objectMetadataId: objectId,
    type: w.type,
    name: w.name,
    label: w.label,
    ...extra,
  };
  if (w.isUnique) field.isUnique = true;
  if (w.options) field.options = w.options;
  if (w.settings) field.settings = w.settings;
  if (w.defaultValue !== undefined) field.defaultValue = w.defaultValue;
  const [r] = await client.metadata('mutation', [
    {
      field: 'createOneField',
      args: 'input: $input',
      vars: { input: { type: 'CreateOneFieldMetadataInput!', value: { field } } },
      selection: 'id name type',
    },
  ]);
  return r;
}

async function ensureFields(
  client: TwentyClient,
  model: WorkspaceModel,
  object: string,
  wanted: WantedField[],
  out: BootstrapResult,
  log: Logger,
): Promise<void> {
  const obj = model.objects[object];
  for (const w of wanted) {
    const have = obj.fields[w.name];
    const type = expectedType(model, w);
    if (have) {
      if (have.type !== type) {
        out.drift.push(`${object}.${w.name} is ${have.type}, expected ${type}`);
      } else if (w.options) {
        const missing = w.options.map((o) => o.value).filter((v) => !have.options.includes(v));
        if (missing.length > 0) out.drift.push(`${object}.${w.name} lacks options ${missing.join(', ')}`);
      }
      continue;
    }
    const r = await createField(client, obj.id, { ...w, type });
    if (!r.ok && ALREADY_EXISTS.test(r.error.message)) {
      log.info({ object, field: w.name }, 'field created concurrently; keeping it');
      continue;
    }
    const err = failed(r, `${object}.${w.name}`);
    if (err) throw err;
    out.created.push(`${object}.${w.name}`);
  }
}

/** Discovers the workspace and brings it to the wanted shape. Safe to run any number of times. */
export async function bootstrapDataModel(
  client: TwentyClient,
  opts: { enrichPeople: boolean; log: Logger; sleep: Sleep; signal?: AbortSignal; pollAttempts?: number },
): Promise<BootstrapResult> {
  const { log } = opts;
  let model = await discoverModel(client);
  const out: BootstrapResult = { model, created: [], drift: [] };
  if (!model.objects.person) throw new Error('twenty: the workspace has no `person` object');

  if (!model.objects.conversation) {
    const [r] = await client.metadata('mutation', [
      {
        field: 'createOneObject',
        args: 'input: $input',
        vars: {
          input: {
            type: 'CreateOneObjectInput!',
            value: {
              object: {
                nameSingular: 'conversation',
                namePlural: 'conversations',
                labelSingular: 'Conversation',
                labelPlural: 'Conversations',
                icon: 'IconMessages',
                description: 'Classified support conversation (Matrix/WhatsApp/Wazo)',
              },
            },
          },
        },
        selection: 'id nameSingular namePlural',
      },
    ]);
    if (!r.ok && !ALREADY_EXISTS.test(r.error.message)) throw failed(r, 'object conversation');
    if (r.ok) out.created.push('conversation');
    model = await discoverModel(client);
    if (!model.objects.conversation) throw new Error('twenty: object conversation still missing after creation');
  }

  await ensureFields(client, model, 'conversation', CONVERSATION_FIELDS, out, log);
  const relation = model.objects.conversation.fields.person;
  if (!relation) {
    const [r] = await client.metadata('mutation', [
      {
        field: 'createOneField',
        args: 'input: $input',
        vars: {
          input: {
            type: 'CreateOneFieldMetadataInput!',
            value: {
              field: {
                objectMetadataId: model.objects.conversation.id,
                type: 'RELATION',
                name: 'person',
                label: 'Person',
                icon: 'IconUser',
                relationCreationPayload: {
                  type: 'MANY_TO_ONE',
                  targetObjectMetadataId: model.objects.person.id,
                  targetFieldLabel: 'Conversations',
                  targetFieldIcon: 'IconMessages',
                  targetFieldName: 'conversations',
                },
              },
            },
          },
        },
        selection: 'id name type',
      },
    ]);
    if (!r.ok && !ALREADY_EXISTS.test(r.error.message)) throw failed(r, 'relation conversation.person');
    if (r.ok) out.created.push('conversation.person');
  } else if (
    relation.type !== 'RELATION' ||
    relation.relationType !== 'MANY_TO_ONE' ||
    relation.targetObject !== 'person'
  ) {
    out.drift.push(
      `conversation.person is ${relation.type}/${relation.relationType ?? '-'} → ${relation.targetObject ?? '-'}, expected RELATION/MANY_TO_ONE → person`,
    );
  }
  if (opts.enrichPeople) await ensureFields(client, model, 'person', PERSON_ENRICH_FIELDS, out, log);

  if (out.created.length > 0) model = await discoverModel(client);
  const inverse = model.objects.person.fields.conversations;
  if (inverse?.targetObject !== 'conversation')
    out.drift.push('person.conversations (inverse of conversation.person) is missing');
  for (const d of out.drift)
    log.warn({ drift: d }, 'twenty data model differs from what the exporter expects; not changing it');
  out.model = model;
  if (out.created.length > 0) {
    log.info({ created: out.created }, 'twenty data model created');
    await waitQueryable(client, opts);
  }
  return out;
}

/** The per-workspace schema cache may lag after metadata changes: poll until `conversations` answers. */
async function waitQueryable(
  client: TwentyClient,
  opts: { log: Logger; sleep: Sleep; signal?: AbortSignal; pollAttempts?: number },
): Promise<void> {
  const attempts = opts.pollAttempts ?? 10;
  for (let i = 1; ; i++) {
    try {
      const [r] = await client.graphql('query', [
        { field: 'conversations', args: 'first: 1', selection: 'edges { node { id conversationKey } }' },
      ]);
      if (r.ok) return;
      if (i >= attempts) throw new Error(`twenty: conversations not queryable: ${r.error.message}`);
    } catch (err) {
      if (!(err instanceof TwentySchemaError) || i >= attempts) throw err;
    }
    opts.log.info({ attempt: i }, 'waiting for twenty to expose the conversation object');
    await opts.sleep(Math.min(10_000, 500 * 2 ** (i - 1)), opts.signal);
  }
}
