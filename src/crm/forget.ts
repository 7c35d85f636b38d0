/**
 * The export stage's part of `forget --customer KEY`: the customer's person, conversations, tasks and task
 * targets are soft-deleted in Twenty through the API, and our `crm_links` rows for them go. The history and
 * classification rows belong to their own stages; the `forget` command runs their erasure after this one
 * (this one first, because it finds the customer's conversations through the history tables).
 */
import type { DatabaseHandle } from '../db/index.ts';
import type { StageContext } from '../stage.ts';
import type { TwentyClient } from './client.ts';
import { createTwentyClient } from './export.ts';
import { realSleep, type Sleep } from './token-bucket.ts';

export interface ForgetReport {
  customer: string;
  /** Soft-deleted in Twenty, by object. */
  twenty: { people: number; conversations: number; tasks: number; taskTargets: number };
  /** Local rows deleted, by table. */
  local: Record<string, number>;
}

interface LinkRef {
  kind: string;
  local_key: string;
  twenty_id: string;
}

/** crm_links rows of a customer: their person, and everything keyed by their conversations. */
function customerLinks(
  handle: DatabaseHandle,
  key: string,
): { person: LinkRef | undefined; others: LinkRef[]; conversationIds: string[] } {
  const conversationIds = (
    handle.sqlite.prepare('select id from conversations where customer_key = ?').all(key) as { id: string }[]
  ).map((r) => r.id);
  const person = handle.sqlite
    .prepare("select kind, local_key, twenty_id from crm_links where kind = 'person' and local_key = ?")
    .get(key) as LinkRef | undefined;
  const others: LinkRef[] = [];
  const stmt = handle.sqlite.prepare(
    "select kind, local_key, twenty_id from crm_links where kind != 'person' and local_key = ?",
  );
  for (const id of conversationIds) others.push(...(stmt.all(id) as LinkRef[]));
  return { person, others, conversationIds };
}

async function softDelete(client: TwentyClient, field: string, filterType: string, ids: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const [r] = await client.graphql('mutation', [
      {
        field,
        args: 'filter: $filter',
        vars: { filter: { type: `${filterType}!`, value: { id: { in: ids.slice(i, i + 100) } } } },
        selection: 'id',
      },
    ]);
    if (!r.ok) throw new Error(`twenty: ${field} failed: ${r.error.message}`);
    n += (r.data as unknown[] | null)?.length ?? 0;
  }
  return n;
}

export async function forgetCustomer(
  ctx: StageContext,
  key: string,
  deps: { sleep?: Sleep } = {},
): Promise<ForgetReport> {
  const handle = ctx.db;
  const { person, others, conversationIds } = customerLinks(handle, key);
  const report: ForgetReport = {
    customer: key,
    twenty: { people: 0, conversations: 0, tasks: 0, taskTargets: 0 },
    local: {},
  };
  if (person || others.length > 0) {
    // Remote first: if Twenty is unreachable we keep the ids, so the command can be run again.
    const client = createTwentyClient(ctx, deps.sleep ?? realSleep);
    const ids = (kind: string) => others.filter((l) => l.kind === kind).map((l) => l.twenty_id);
    report.twenty.taskTargets = await softDelete(
      client,
      'deleteTaskTargets',
      'TaskTargetFilterInput',
      ids('task_target'),
    );
    report.twenty.tasks = await softDelete(client, 'deleteTasks', 'TaskFilterInput', ids('task'));
    report.twenty.conversations = await softDelete(
      client,
      'deleteConversations',
      'ConversationFilterInput',
      ids('conversation'),
    );
    if (person)
      report.twenty.people = await softDelete(client, 'deletePeople', 'PersonFilterInput', [person.twenty_id]);
  }
  handle.sqlite.transaction(() => {
    let links = 0;
    const del = handle.sqlite.prepare('delete from crm_links where kind = ? and local_key = ?');
    for (const l of others) links += del.run(l.kind, l.local_key).changes;
    // Every customer key linked to the deleted person loses the link (the person no longer exists).
    if (person)
      links += handle.sqlite
        .prepare("delete from crm_links where kind = 'person' and twenty_id = ?")
        .run(person.twenty_id).changes;
    report.local.crm_links = links;
  })();
  ctx.log.info({ customer: key, conversations: conversationIds.length, twenty: report.twenty }, 'customer forgotten');
  return report;
}
