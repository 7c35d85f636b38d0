/**
 * The fake Twenty's data model (what `/metadata` serves and what the per-workspace core schema is generated
 * from). Standard objects follow reference §6: 2.x shapes by default, the older 1.x shapes on request
 * (`taskTarget.personId`, `RICH_TEXT_V2`, `person.city`, `isCustom` on objects and fields).
 */
import { randomUUID } from 'node:crypto';

export type TwentyVersion = '2.x' | '1.x';

export interface FakeRelation {
  type: 'MANY_TO_ONE' | 'ONE_TO_MANY';
  targetObject: string;
  /** Name of the field on the other side. */
  targetField: string;
}

export interface FakeField {
  id: string;
  name: string;
  label: string;
  type: string;
  isActive: boolean;
  isNullable: boolean;
  isUnique: boolean;
  isCustom: boolean;
  options: unknown;
  settings: unknown;
  relation?: FakeRelation;
}

export interface FakeObject {
  id: string;
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  icon: string | null;
  description: string | null;
  isActive: boolean;
  isSystem: boolean;
  isCustom: boolean;
  fields: FakeField[];
}

export function makeField(name: string, type: string, extra: Partial<FakeField> = {}): FakeField {
  return {
    id: randomUUID(),
    name,
    label: extra.label ?? name,
    type,
    isActive: true,
    isNullable: true,
    isUnique: false,
    isCustom: false,
    options: null,
    settings: null,
    ...extra,
  };
}

function object(
  nameSingular: string,
  namePlural: string,
  fields: FakeField[],
  extra: Partial<FakeObject> = {},
): FakeObject {
  const label = nameSingular[0].toUpperCase() + nameSingular.slice(1);
  return {
    id: randomUUID(),
    nameSingular,
    namePlural,
    labelSingular: label,
    labelPlural: `${label}s`,
    icon: null,
    description: null,
    isActive: true,
    isSystem: false,
    isCustom: false,
    fields,
    ...extra,
  };
}

const TASK_STATUS = [
  { value: 'TODO', label: 'To do', color: 'sky', position: 0 },
  { value: 'IN_PROGRESS', label: 'In progress', color: 'purple', position: 1 },
  { value: 'DONE', label: 'Done', color: 'green', position: 2 },
];

const rel = (type: FakeRelation['type'], targetObject: string, targetField: string): { relation: FakeRelation } => ({
  relation: { type, targetObject, targetField },
});

/** The standard objects a fresh workspace has (only the ones the exporter touches). */
export function standardObjects(version: TwentyVersion): FakeObject[] {
  const richText = version === '2.x' ? 'RICH_TEXT' : 'RICH_TEXT_V2';
  const target = version === '2.x' ? 'targetPerson' : 'person';
  const personFields = [
    makeField('name', 'FULL_NAME'),
    makeField('emails', 'EMAILS', { isUnique: true }),
    makeField('phones', 'PHONES'),
    makeField('jobTitle', 'TEXT'),
    makeField('taskTargets', 'RELATION', rel('ONE_TO_MANY', 'taskTarget', target)),
    makeField('noteTargets', 'RELATION', rel('ONE_TO_MANY', 'noteTarget', target)),
  ];
  if (version === '1.x') personFields.push(makeField('city', 'TEXT'));
  return [
    object('person', 'people', personFields, { labelPlural: 'People' }),
    object('workspaceMember', 'workspaceMembers', [makeField('name', 'FULL_NAME'), makeField('userEmail', 'TEXT')], {
      isSystem: true,
    }),
    object('task', 'tasks', [
      makeField('title', 'TEXT'),
      makeField('bodyV2', richText),
      makeField('dueAt', 'DATE_TIME'),
      makeField('status', 'SELECT', { options: TASK_STATUS }),
      makeField('assignee', 'RELATION', rel('MANY_TO_ONE', 'workspaceMember', 'assignedTasks')),
      makeField('taskTargets', 'RELATION', rel('ONE_TO_MANY', 'taskTarget', 'task')),
    ]),
    object('taskTarget', 'taskTargets', [
      makeField('task', 'RELATION', rel('MANY_TO_ONE', 'task', 'taskTargets')),
      makeField(target, 'RELATION', rel('MANY_TO_ONE', 'person', 'taskTargets')),
    ]),
    object('note', 'notes', [
      makeField('title', 'TEXT'),
      makeField('bodyV2', richText),
      makeField('noteTargets', 'RELATION', rel('ONE_TO_MANY', 'noteTarget', 'note')),
    ]),
    object('noteTarget', 'noteTargets', [
      makeField('note', 'RELATION', rel('MANY_TO_ONE', 'note', 'noteTargets')),
      makeField(target, 'RELATION', rel('MANY_TO_ONE', 'person', 'noteTargets')),
    ]),
  ];
}

/** `person` → `Person`, `taskTarget` → `TaskTarget`. */
export function typeName(nameSingular: string): string {
  return nameSingular[0].toUpperCase() + nameSingular.slice(1);
}

/** The root-field suffix for plural operations (`createPeople`). */
export function pluralName(namePlural: string): string {
  return namePlural[0].toUpperCase() + namePlural.slice(1);
}
