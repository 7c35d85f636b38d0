/**
 * Owner: src/crm (stage 3). What the exporter remembers about Twenty: the id of every record it wrote or
 * linked, the content hash last sent (unchanged records are skipped), failures, and the cached data model.
 */
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const CRM_LINK_KINDS = ['person', 'conversation', 'task', 'task_target'] as const;
export type CrmLinkKind = (typeof CRM_LINK_KINDS)[number];

/**
 * One row per local thing exported: `person` keyed by customer key, `conversation`, `task` and
 * `task_target` keyed by conversation id.
 */
export const crmLinks = sqliteTable(
  'crm_links',
  {
    kind: text('kind', { enum: CRM_LINK_KINDS }).notNull(),
    localKey: text('local_key').notNull(),
    /** Twenty record id (UUID); for a failed record, the id it would get. */
    twentyId: text('twenty_id').notNull(),
    /** sha256 of the payload last sent (or attempted); equal hash = nothing to send. */
    contentHash: text('content_hash').notNull(),
    /** `ok` written, `linked` matched an existing Twenty record we do not own, `failed` rejected. */
    status: text('status', { enum: ['ok', 'linked', 'failed'] }).notNull(),
    error: text('error'),
    /** Normalised e-mail / `+<calling code><national>` phone of a person, for local cross-channel matching. */
    matchEmail: text('match_email'),
    matchPhone: text('match_phone'),
    /** For tasks: the task status last sent (`TODO`, `DONE`). */
    state: text('state'),
    exportedAt: integer('exported_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.localKey] }),
    index('crm_links_twenty_id').on(t.twentyId),
    index('crm_links_match_email').on(t.matchEmail),
    index('crm_links_match_phone').on(t.matchPhone),
  ],
);

/** Small key/value cache: the discovered Twenty data model (`model`), workspace member ids, ... */
export const crmState = sqliteTable('crm_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
