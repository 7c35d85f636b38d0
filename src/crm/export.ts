/**
 * The export stage runner: data model (cached, or discovered and bootstrapped), then people, conversations
 * and follow-up tasks. Links are saved after every accepted batch, so a killed run resumes where it stopped;
 * unchanged records are skipped by content hash, so a run with nothing new sends no mutation at all.
 */
import { parseDuration } from '../config/index.ts';
import { NotConfiguredError } from '../errors.ts';
import { registerSecret } from '../log.ts';
import { Counter, getOrCreate } from '../metrics.ts';
import type { StageContext } from '../stage.ts';
import { bootstrapDataModel } from './bootstrap.ts';
import { TwentyClient, TwentySchemaError } from './client.ts';
import { exportConversations } from './conversations.ts';
import type { ConversationInput, PersonEnrichment } from './mapping.ts';
import {
  CONVERSATION_FIELDS,
  discoverModel,
  PERSON_ENRICH_FIELDS,
  specHash,
  usableFields,
  type WorkspaceModel,
} from './model.ts';
import { resolvePeople } from './people.ts';
import {
  deleteState,
  getState,
  loadClassifiedConversations,
  loadCustomers,
  loadLinks,
  saveLinks,
  setState,
} from './store.ts';
import { exportTasks } from './tasks.ts';
import { realSleep, type Sleep } from './token-bucket.ts';

export interface ExportOptions {
  /** Run the data-model bootstrap even when the cached model matches (`export --setup`). */
  setup: boolean;
  /** Compute what would be sent; no mutation is called. */
  dryRun: boolean;
}

export interface ExportDeps {
  /** Waits (token bucket, back-off); tests and the benchmark pass a virtual one. */
  sleep?: Sleep;
}

export interface ExportReport {
  counts: Record<string, number>;
  /** Dry run only: a few of the payloads that would be sent. */
  sample: { people: unknown[]; conversations: unknown[]; tasks: unknown[] };
  /** Drift found in the workspace data model (logged too). */
  drift: string[];
}

interface CachedModel {
  spec: string;
  model: WorkspaceModel;
}

/** Throws NotConfiguredError naming what is missing: `[twenty] url` or the MCB_TWENTY_API_KEY secret. */
export function assertTwentyConfigured(cfg: StageContext['config']['twenty']): void {
  if (!cfg.url)
    throw new NotConfiguredError('twenty', '[twenty] url is empty: set it in config.toml or MCB_TWENTY_URL');
  if (!cfg.api_key) {
    throw new NotConfiguredError(
      'twenty',
      '[twenty] API key missing: set MCB_TWENTY_API_KEY (or MCB_TWENTY_API_KEY_FILE) in the environment',
    );
  }
}

/** Builds the Twenty client from `[twenty]`, or explains what is missing. */
export function createTwentyClient(ctx: StageContext, sleep: Sleep): TwentyClient {
  const cfg = ctx.config.twenty;
  assertTwentyConfigured(cfg);
  registerSecret(cfg.api_key);
  return new TwentyClient({
    url: cfg.url,
    apiKey: cfg.api_key as string,
    opsPerMinute: cfg.ops_per_minute,
    now: ctx.now,
    sleep,
    log: ctx.log,
    signal: ctx.signal,
  });
}

export async function runExport(
  ctx: StageContext,
  opts: ExportOptions,
  deps: ExportDeps = {},
): Promise<Record<string, number>> {
  return (await exportToTwenty(ctx, opts, deps)).counts;
}

export async function exportToTwenty(
  ctx: StageContext,
  opts: ExportOptions,
  deps: ExportDeps = {},
): Promise<ExportReport> {
  const sleep = deps.sleep ?? realSleep;
  const client = createTwentyClient(ctx, sleep);
  try {
    return await exportOnce(ctx, client, opts, sleep);
  } catch (err) {
    if (!(err instanceof TwentySchemaError) || opts.dryRun) throw err;
    // The workspace changed under our cached model (a field deleted or retyped): rediscover once.
    ctx.log.warn({ err: err.message }, 'twenty refused a document; rediscovering the data model');
    deleteState(ctx.db, 'model');
    return await exportOnce(ctx, client, { ...opts, setup: true }, sleep);
  }
}

async function exportOnce(
  ctx: StageContext,
  client: TwentyClient,
  opts: ExportOptions,
  sleep: Sleep,
): Promise<ExportReport> {
  const cfg = ctx.config.twenty;
  const started = ctx.now();
  const spec = specHash(cfg.url, cfg.enrich_people);
  const cached = getState<CachedModel>(ctx.db, 'model');
  let model: WorkspaceModel;
  let drift: string[] = [];
  let bootstrapNeeded = 0;
  if (cached && cached.spec === spec && !opts.setup) {
    model = cached.model;
  } else if (opts.dryRun) {
    model = await discoverModel(client);
    bootstrapNeeded = model.objects.conversation ? 0 : 1;
  } else {
    const r = await bootstrapDataModel(client, {
      enrichPeople: cfg.enrich_people,
      log: ctx.log,
      sleep,
      signal: ctx.signal,
    });
    model = r.model;
    drift = r.drift;
    setState(ctx.db, 'model', { spec, model } satisfies CachedModel, ctx.now());
  }
  const usable = model.objects.conversation
    ? usableFields(model, 'conversation', CONVERSATION_FIELDS)
    : new Set([...CONVERSATION_FIELDS.map((f) => f.name), 'person']);
  if (model.objects.conversation?.fields.person?.relationType === 'MANY_TO_ONE') usable.add('person');
  const usableEnrich = cfg.enrich_people ? usableFields(model, 'person', PERSON_ENRICH_FIELDS) : new Set<string>();

  const list = loadClassifiedConversations(ctx.db, { excerptLines: cfg.export_excerpts ? 3 : 0 });
  const customerKeys = [...new Set(list.flatMap((c) => (c.customerKey ? [c.customerKey] : [])))];
  const customerRows = loadCustomers(ctx.db, customerKeys);
  // Support staff are never exported as people, even if sync recorded one of them as a customer.
  const staff = new Set([...Object.keys(cfg.agents), ...list.flatMap((c) => c.agents)]);
  const people = [...customerRows.values()].filter((c) => !(c.mxid && staff.has(c.mxid)));
  const save = (rows: Parameters<typeof saveLinks>[1]) => saveLinks(ctx.db, rows);
  const now = ctx.now();
  const common = { batchSize: cfg.batch_size, now, dryRun: opts.dryRun, signal: ctx.signal, save };
  const live = opts.dryRun ? undefined : client;

  const peopleResult = await resolvePeople(live, model, people, loadLinks(ctx.db, 'person'), {
    ...common,
    enrich: cfg.enrich_people ? enrichment(list) : undefined,
    usableEnrich,
  });
  const conv = await exportConversations(live, list, peopleResult.ids, loadLinks(ctx.db, 'conversation'), {
    ...common,
    usable,
    exportExcerpts: cfg.export_excerpts,
  });
  const exportedList = opts.dryRun ? list : list.filter((c) => conv.exported.has(c.id));
  const tasks = await exportTasks(
    live,
    model,
    exportedList,
    peopleResult.ids,
    loadLinks(ctx.db, 'task'),
    loadLinks(ctx.db, 'task_target'),
    {
      ...common,
      negativeThreshold: cfg.negative_threshold,
      unansweredAfterMs: parseDuration(cfg.unanswered_after) ?? 4 * 3_600_000,
      dueAfterMs: parseDuration(cfg.task_due_after) ?? 86_400_000,
      exportExcerpts: cfg.export_excerpts,
      closeResolved: cfg.close_resolved_tasks,
      agents: cfg.agents,
      memberIds: (emails) => memberIds(ctx, client, emails),
    },
  );

  const p = peopleResult.counts;
  const counts: Record<string, number> = {
    conversations: list.length,
    exported: p.created + conv.counts.created + tasks.tasks.created + tasks.targets.created,
    updated: p.updated + conv.counts.updated + tasks.tasks.updated,
    skipped: p.skipped + conv.counts.skipped + tasks.tasks.skipped + tasks.targets.skipped,
    failed: p.failed + conv.counts.failed + tasks.tasks.failed + tasks.targets.failed,
    operations: client.operations,
    mutations: client.mutations,
    people_created: p.created,
    people_linked: p.linked,
    conversations_exported: conv.counts.created + conv.counts.updated,
    tasks_exported: tasks.tasks.created + tasks.tasks.updated,
    waited_ms: client.bucket.waitedMs + client.backoffMs,
  };
  if (opts.dryRun) counts.bootstrap_needed = bootstrapNeeded;
  recordMetrics(ctx, counts, opts.dryRun);
  ctx.log.info({ ...counts, duration_ms: ctx.now() - started, dry_run: opts.dryRun }, 'export finished');
  return {
    counts,
    drift,
    sample: {
      people: peopleResult.pending.slice(0, 3),
      conversations: conv.pending.slice(0, 3),
      tasks: tasks.pending.slice(0, 3),
    },
  };
}

/** Per-customer aggregates for `[twenty] enrich_people`. */
function enrichment(list: ConversationInput[]): Map<string, PersonEnrichment> {
  const acc = new Map<string, { last: number; sum: number; n: number; channels: Set<string> }>();
  for (const c of list) {
    if (!c.customerKey) continue;
    const a = acc.get(c.customerKey) ?? { last: 0, sum: 0, n: 0, channels: new Set<string>() };
    a.last = Math.max(a.last, c.lastMessageAt);
    a.sum += c.sentimentScore;
    a.n++;
    a.channels.add(c.channel.toUpperCase());
    acc.set(c.customerKey, a);
  }
  return new Map(
    [...acc].map(([k, a]) => [
      k,
      {
        lastContactAt: new Date(a.last).toISOString(),
        averageSentiment: Math.round((a.sum / a.n) * 100) / 100,
        conversationCount: a.n,
        channels: [...a.channels].sort(),
      },
    ]),
  );
}

/** Workspace member ids by e-mail, cached in crm_state so each e-mail is looked up once. */
async function memberIds(ctx: StageContext, client: TwentyClient, emails: string[]): Promise<Map<string, string>> {
  const cache = getState<Record<string, string>>(ctx.db, 'members') ?? {};
  const missing = emails.filter((e) => !(e in cache));
  if (missing.length > 0) {
    const [r] = await client.graphql('query', [
      {
        field: 'workspaceMembers',
        args: 'filter: $filter, first: 200',
        vars: { filter: { type: 'WorkspaceMemberFilterInput', value: { userEmail: { in: missing } } } },
        selection: 'edges { node { id userEmail } }',
      },
    ]);
    if (!r.ok) ctx.log.warn({ err: r.error.message }, 'cannot look up twenty workspace members; tasks stay unassigned');
    else {
      for (const { node } of (r.data as { edges: { node: { id: string; userEmail: string } }[] }).edges)
        cache[node.userEmail.toLowerCase()] = node.id;
      for (const e of missing)
        if (!(e in cache))
          ctx.log.warn({ email: e }, 'no twenty workspace member with this e-mail; task left unassigned');
      setState(ctx.db, 'members', cache, ctx.now());
    }
  }
  return new Map(
    emails.flatMap((e) => (cache[e.toLowerCase()] ? [[e, cache[e.toLowerCase()]] as [string, string]] : [])),
  );
}

function recordMetrics(ctx: StageContext, counts: Record<string, number>, dryRun: boolean): void {
  if (dryRun) return;
  const records = getOrCreate(
    ctx.metrics,
    'mcb_export_records_total',
    () =>
      new Counter({
        name: 'mcb_export_records_total',
        help: 'Twenty records handled by the export stage',
        labelNames: ['result'],
        registers: [ctx.metrics],
      }),
  );
  const ops = getOrCreate(
    ctx.metrics,
    'mcb_export_operations_total',
    () =>
      new Counter({
        name: 'mcb_export_operations_total',
        help: 'Twenty API root operations used by the export stage',
        registers: [ctx.metrics],
      }),
  );
  for (const k of ['exported', 'updated', 'skipped', 'failed'] as const) records.inc({ result: k }, counts[k]);
  ops.inc(counts.operations);
}
