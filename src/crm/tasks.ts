/**
 * Follow-up tasks: one Twenty task per conversation that needs action (negative sentiment, complaint /
 * cancellation / billing intent, customer left unanswered), linked to the person with a taskTarget,
 * updated in place and closed (`DONE`) when the conversation resolves. Deterministic ids (UUIDv5 of the
 * conversation key) and `upsert: true` make retries and re-runs safe.
 */
import type { TwentyClient } from './client.ts';
import {
  type ConversationInput,
  contentHash,
  type FollowUpRules,
  followUpReasons,
  recordId,
  taskPayload,
} from './mapping.ts';
import type { WorkspaceModel } from './model.ts';
import type { RecordCounts } from './conversations.ts';
import type { LinkRow } from './store.ts';
import { upsertInBatches } from './upsert-batches.ts';

export interface TaskOptions extends FollowUpRules {
  dueAfterMs: number;
  exportExcerpts: boolean;
  closeResolved: boolean;
  batchSize: number;
  now: number;
  dryRun: boolean;
  /** MXID → workspace member e-mail (`[twenty] agents`). */
  agents: Record<string, string>;
  /** Resolves member e-mails to workspace member ids (cached by the caller). */
  memberIds: (emails: string[]) => Promise<Map<string, string>>;
  signal?: AbortSignal;
  save: (rows: LinkRow[]) => void;
}

export async function exportTasks(
  client: TwentyClient | undefined,
  model: WorkspaceModel | undefined,
  list: ConversationInput[],
  personIds: Map<string, string>,
  taskLinks: Map<string, LinkRow>,
  targetLinks: Map<string, LinkRow>,
  opts: TaskOptions,
): Promise<{ tasks: RecordCounts; targets: RecordCounts; pending: Record<string, unknown>[] }> {
  const tasks: RecordCounts = { created: 0, updated: 0, skipped: 0, failed: 0 };
  const targets: RecordCounts = { created: 0, updated: 0, skipped: 0, failed: 0 };
  const taskFields = model?.objects.task?.fields ?? {};
  const bodyField = 'bodyV2' in taskFields;
  const canAssign = 'assignee' in taskFields;
  type Planned = {
    c: ConversationInput;
    id: string;
    hash: string;
    state: string;
    data: Record<string, unknown>;
    isNew: boolean;
  };
  const planned: Planned[] = [];
  const needAssignee: { c: ConversationInput; email: string }[] = [];
  const decisions: { c: ConversationInput; reasons: string[]; prev: LinkRow | undefined }[] = [];
  for (const c of list) {
    const person = c.customerKey ? personIds.get(c.customerKey) : undefined;
    if (!person) continue;
    const prev = taskLinks.get(c.id);
    const reasons = followUpReasons(c, opts.now, opts);
    if (!prev && (reasons.length === 0 || c.status === 'RESOLVED')) continue;
    if (prev && prev.status === 'failed' && reasons.length === 0) continue;
    decisions.push({ c, reasons, prev });
    const email = canAssign ? c.agents.map((a) => opts.agents[a]).find(Boolean) : undefined;
    if (email) needAssignee.push({ c, email });
  }
  const members =
    needAssignee.length > 0 && !opts.dryRun
      ? await opts.memberIds([...new Set(needAssignee.map((n) => n.email))])
      : new Map<string, string>();
  const assigneeOf = new Map(needAssignee.map((n) => [n.c.id, members.get(n.email)]));
  for (const { c, reasons, prev } of decisions) {
    const payload = taskPayload(c, reasons.length > 0 ? reasons : ['follow-up'], {
      dueAfterMs: opts.dueAfterMs,
      exportExcerpts: opts.exportExcerpts,
      assigneeId: assigneeOf.get(c.id),
      bodyField,
    });
    const hash = contentHash(payload);
    const prevState = prev?.status === 'ok' ? (prev.state ?? 'TODO') : undefined;
    const closing = opts.closeResolved && c.status === 'RESOLVED' && prevState !== undefined && prevState !== 'DONE';
    if (prevState !== undefined && !closing && prev?.contentHash === hash) {
      tasks.skipped++;
      continue;
    }
    if (prev?.status === 'failed' && prev.contentHash === hash) {
      tasks.skipped++;
      continue;
    }
    const id = prev?.twentyId ?? recordId('task', c.id);
    const data: Record<string, unknown> = { id, ...payload };
    // Status is only sent on creation and when closing, so a human's IN_PROGRESS is not overwritten.
    if (prevState === undefined) data.status = 'TODO';
    if (closing) data.status = 'DONE';
    planned.push({
      c,
      id,
      hash,
      state: (data.status as string | undefined) ?? prevState ?? 'TODO',
      data,
      isNew: prevState === undefined,
    });
  }
  const pending = planned.map((p) => p.data);
  if (opts.dryRun || !client || !model) {
    for (const p of planned) {
      if (p.isNew) tasks.created++;
      else tasks.updated++;
    }
    return { tasks, targets, pending };
  }
  const link = (
    kind: LinkRow['kind'],
    key: string,
    id: string,
    hash: string,
    status: LinkRow['status'],
    state: string | null,
    error: string | null,
  ): LinkRow => ({
    kind,
    localKey: key,
    twentyId: id,
    contentHash: hash,
    status,
    error,
    matchEmail: null,
    matchPhone: null,
    state,
    exportedAt: opts.now,
  });
  const okTasks = new Map<string, string>();
  for (const [key, l] of taskLinks) if (l.status === 'ok') okTasks.set(key, l.twentyId);
  await upsertInBatches(
    client,
    { field: 'createTasks', inputType: 'TaskCreateInput' },
    planned.map((p) => ({ data: p.data, ref: p })),
    opts.batchSize,
    {
      signal: opts.signal,
      done: (items) => {
        opts.save(items.map((i) => link('task', i.ref.c.id, i.ref.id, i.ref.hash, 'ok', i.ref.state, null)));
        for (const i of items) {
          if (i.ref.isNew) tasks.created++;
          else tasks.updated++;
          okTasks.set(i.ref.c.id, i.ref.id);
        }
      },
      failed: (item, error) => {
        opts.save([link('task', item.ref.c.id, item.ref.id, item.ref.hash, 'failed', null, error.message)]);
        tasks.failed++;
      },
    },
  );

  const column = model.taskTargetPersonColumn;
  const targetItems: { data: Record<string, unknown>; ref: { key: string; id: string; hash: string } }[] = [];
  for (const c of list) {
    const taskId = okTasks.get(c.id);
    const person = c.customerKey ? personIds.get(c.customerKey) : undefined;
    if (!taskId || !person) continue;
    const data = { taskId, [column]: person };
    const hash = contentHash(data);
    const prev = targetLinks.get(c.id);
    if (prev && prev.contentHash === hash) {
      targets.skipped++;
      continue;
    }
    const id = prev?.twentyId ?? recordId('taskTarget', c.id);
    targetItems.push({ data: { id, ...data }, ref: { key: c.id, id, hash } });
  }
  await upsertInBatches(
    client,
    { field: 'createTaskTargets', inputType: 'TaskTargetCreateInput' },
    targetItems,
    opts.batchSize,
    {
      signal: opts.signal,
      done: (items) => {
        opts.save(items.map((i) => link('task_target', i.ref.key, i.ref.id, i.ref.hash, 'ok', null, null)));
        targets.created += items.length;
      },
      failed: (item, error) => {
        opts.save([link('task_target', item.ref.key, item.ref.id, item.ref.hash, 'failed', null, error.message)]);
        targets.failed++;
      },
    },
  );
  return { tasks, targets, pending };
}
