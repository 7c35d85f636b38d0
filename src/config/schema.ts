/**
 * The one source of truth for the shape of config.toml. `schemas/config.schema.json` is generated from
 * this file (`npm run schema:config`); never edit that JSON by hand.
 *
 * Every section is optional and every key has a working default. Keys marked `secret` may only come from
 * the environment (`MCB_<SECTION>_<KEY>` or `MCB_<SECTION>_<KEY>_FILE`), never from the file.
 */
import { validate as isCron } from 'node-cron';
import { z } from 'zod';
import { parseDuration } from './duration.ts';

const duration = (def: string) =>
  z
    .string()
    .default(def)
    .refine((v) => parseDuration(v) !== undefined, { message: 'expected a duration such as "90s", "15m", "4h", "1d"' })
    .describe('duration: a number followed by ms, s, m, h, d or w (e.g. "4h", "1d", "1h30m")');

const httpUrl = z.union([z.literal(''), z.url({ protocol: /^https?$/ })]);
const cron = (def: string) =>
  z
    .string()
    .default(def)
    .refine((v) => isCron(v), { message: 'expected a cron expression such as "*/5 * * * *"' })
    .describe('cron expression (node-cron, 5 or 6 fields)');

/** Keys that hold secrets: env-only, scrubbed from logs. `section.key` → description. */
export const SECRET_KEYS: Record<string, string> = {
  'wazo.service_username': 'Wazo service account username (confd, webhookd, events)',
  'wazo.service_password': 'Wazo service account password',
  'wazo.relay_username': 'Wazo relay user name',
  'wazo.relay_password': 'Wazo relay user password',
  'wazo.webhook_secret': 'secret path segment of the Wazo webhook URL',
  'bridge.encryption_key':
    'key that encrypts stored Wazo refresh tokens and login-matrix access tokens (32 bytes: base64 or 64 hex chars; required with [wazo] url, login-matrix is off without it)',
  'twenty.api_key': 'Twenty API key (Settings → APIs & Webhooks)',
  'http.report_token': 'bearer token protecting GET /report (unset = /report off)',
};

const secret = () => z.string().min(1).optional();

export const homeserverSection = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:8008')
      .describe('Client-Server API base URL'),
    domain: z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected a server name such as "example.org"')
      .default('localhost')
      .describe('server name: the part after ":" in user IDs'),
  })
  .prefault({});

export const appserviceSection = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .default('matrix-crm-bridge')
      .describe('unique, never-changing appservice id on the homeserver'),
    url: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:29330')
      .describe('where the homeserver reaches us'),
    registration: z
      .string()
      .min(1)
      .default('./data/registration.yaml')
      .describe('registration file (holds as_token/hs_token), written by generate-registration'),
    bot_localpart: z
      .string()
      .regex(/^[a-z0-9._=\-/]+$/, 'expected a lower-case Matrix localpart')
      .default('crmbridge')
      .describe('the bridge bot is @<bot_localpart>:<domain>'),
    ghost_prefix: z
      .string()
      .regex(/^[a-z0-9._=\-/]+$/, 'expected a lower-case localpart prefix such as "wazo_"')
      .default('wazo_')
      .describe('Wazo users appear as @<ghost_prefix><user uuid>:<domain>'),
  })
  .prefault({});

export const httpSection = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('address the HTTP server binds'),
    port: z.int().min(0).max(65535).default(29330).describe('port the HTTP server binds (0 = any free port)'),
    max_body_bytes: z
      .int()
      .min(1024)
      .default(8 * 1024 * 1024)
      .describe(
        'largest request body accepted (413 above); appservice transactions: at least 16 MiB, the most a homeserver sends',
      ),
    report_token: secret(),
  })
  .prefault({});

export const databaseSection = z
  .strictObject({
    url: z
      .string()
      .regex(/^sqlite:.+/, 'expected "sqlite:<path>" or "sqlite::memory:"')
      .default('sqlite:./data/bridge.db')
      .describe('embedded SQLite file (created if missing), or sqlite::memory:'),
  })
  .prefault({});

const permissionLevel = z.enum(['relay', 'user', 'admin']);

export const bridgeSection = z
  .strictObject({
    relay: z.boolean().default(true).describe('unlinked Matrix users post to Wazo through the relay account'),
    permissions: z
      .record(z.string(), permissionLevel)
      .default({})
      .describe('MXID, domain or "*" → relay | user | admin'),
    double_puppet: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'post a linked Wazo user’s messages as their real Matrix account through a second registration (mautrix-style double puppeting; a token given with login-matrix comes first)',
          ),
        registration: z
          .string()
          .default('')
          .describe('path of the second, non-exclusive registration (generate-registration --double-puppet)'),
      })
      .prefault({}),
    media: z.boolean().default(false).describe('re-upload Wazo file links to the Matrix media repository'),
    reactions: z.boolean().default(false).describe('bridge Matrix reactions to Wazo as short text messages'),
    public_media_url: httpUrl.default('').describe('public base URL under which Wazo users open Matrix media'),
    media_hosts: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected host or host:port'))
      .default([])
      .describe(
        'hosts on a private network whose files media = true may fetch (the Wazo host always may); their TLS certificates are always verified',
      ),
    encryption_key: secret(),
  })
  .prefault({});

export const wazoSection = z
  .strictObject({
    url: httpUrl.default('').describe('Wazo base URL; empty = Wazo part off'),
    websocket_url: z.string().default('').describe('default derived: wss://<host>/api/websocketd/'),
    events: z
      .enum(['websocket', 'webhook'])
      .default('websocket')
      .describe('inbound feed: wazo-websocketd (no public endpoint) or wazo-webhookd (POST /wazo/events/<secret>)'),
    public_url: httpUrl.default('').describe('how Wazo reaches our webhook'),
    manage_subscription: z
      .boolean()
      .default(false)
      .describe('create/update our webhookd subscription at start (needs public_url and the webhook secret)'),
    client_id: z
      .string()
      .min(1)
      .default('matrix-crm-bridge')
      .describe('wazo-auth client_id of the users’ refresh tokens'),
    verify_tls: z
      .boolean()
      .default(true)
      .describe(
        'false accepts a self-signed Wazo certificate (lab only): API, events and media = true downloads from the Wazo host; other hosts are always verified',
      ),
    tenant: z.string().default('').describe('Wazo-Tenant uuid for admin calls (confd, webhookd); empty = the token’s'),
    bridge_all_rooms: z
      .boolean()
      .default(false)
      .describe('bridge every room the service account sees, not only rooms with a logged-in participant'),
    reorder_window_ms: z.int().min(0).max(60_000).optional().describe('default 300 for webhook, 0 for websocket'),
    service_username: secret(),
    service_password: secret(),
    relay_username: secret(),
    relay_password: secret(),
    webhook_secret: secret(),
  })
  .prefault({});

export const whatsappSection = z
  .strictObject({
    ghost_pattern: z
      .string()
      .default('^@whatsapp_')
      .refine(isRegex, { message: 'expected a valid regular expression' })
      .describe('regex matching mautrix-whatsapp ghost MXIDs'),
    bot_localpart: z.string().default('whatsappbot').describe('localpart of the mautrix-whatsapp bridge bot'),
    own_numbers: z.array(z.string()).default([]).describe('the company’s own WhatsApp numbers (staff)'),
  })
  .prefault({});

const syncAccount = z
  .strictObject({
    user_id: z
      .string()
      .regex(/^@[^:]+:.+$/, 'expected a Matrix user ID such as "@agent:example.org"')
      .optional(),
    access_token_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    access_token_file: z.string().optional(),
    appservice: z.boolean().default(false),
  })
  .refine((a) => a.appservice || (a.user_id && (a.access_token_env || a.access_token_file)), {
    message: 'each account needs `appservice = true`, or `user_id` with `access_token_env` or `access_token_file`',
  });

export const syncSection = z
  .strictObject({
    accounts: z
      .array(syncAccount)
      .default([])
      .describe('Matrix accounts to read as: user_id + access_token_env/access_token_file, or appservice = true'),
    rooms: z
      .strictObject({
        channels: z
          .array(z.enum(['whatsapp', 'wazo', 'matrix']))
          .default(['whatsapp', 'wazo', 'matrix'])
          .describe('channels whose rooms are synced'),
        include: z.array(z.string()).default([]).describe('explicit room IDs (empty = every room of the channels)'),
        exclude: z.array(z.string()).default([]).describe('room IDs never synced'),
      })
      .prefault({}),
    auto_join: z
      .boolean()
      .default(false)
      .describe('join rooms the sync accounts are invited to, and the rooms that replaced synced rooms (upgrades)'),
    backfill_days: z
      .int()
      .min(0)
      .default(90)
      .describe('the first sync, and a gap fill, read this far back (0 = everything)'),
    max_events_per_room: z
      .int()
      .min(0)
      .default(0)
      .describe('the first sync, and a gap fill, stop after this many events (0 = no limit)'),
    page_size: z.int().min(1).max(1000).default(250).describe('events asked per /messages page'),
    conversation_gap: duration('24h'),
    retention_days: z.int().min(0).default(0).describe('delete message text older than this (0 = keep)'),
    staff: z.array(z.string()).default([]).describe('MXIDs or /regex/ of support staff'),
  })
  .prefault({});

export const nlpSection = z
  .strictObject({
    languages: z
      .array(z.string().regex(/^[a-z]{2}$/, 'expected ISO 639-1 codes'))
      .min(1)
      .default(['en', 'fr'])
      .describe('fully supported languages (ISO 639-1); others get the English model, flagged'),
    model_dir: z.string().default('./models').describe('folder of the trained models (nlp train writes it)'),
    batch_size: z.int().min(1).default(1000).describe('messages or conversations classified per transaction'),
  })
  .prefault({});

export const twentySection = z
  .strictObject({
    url: httpUrl.default('').describe('Twenty base URL; empty = export off'),
    api_key: secret(),
    batch_size: z.int().min(1).max(200).default(60).describe('records per createMany / look-up query'),
    ops_per_minute: z.int().min(1).default(90).describe('client-side budget of GraphQL root fields per minute'),
    enrich_people: z
      .boolean()
      .default(false)
      .describe('add lastContactAt, averageSentiment, conversationCount, channels to Person'),
    negative_threshold: z
      .number()
      .min(-1)
      .max(1)
      .default(-0.3)
      .describe('sentiment score below which a conversation gets a task'),
    unanswered_after: duration('4h'),
    task_due_after: duration('1d'),
    close_resolved_tasks: z
      .boolean()
      .default(true)
      .describe('set a follow-up task to DONE once its conversation resolves'),
    export_excerpts: z
      .boolean()
      .default(true)
      .describe('put message text in summaries and task bodies (false: labels and metrics only)'),
    agents: z.record(z.string(), z.email()).default({}).describe('Matrix MXID → Twenty workspace member e-mail'),
  })
  .prefault({});

export const jobsSection = z
  .strictObject({
    sync: cron('*/5 * * * *'),
    classify: cron('*/5 * * * *'),
    export: cron('*/15 * * * *'),
    sync_enabled: z.boolean().default(true).describe('schedule the sync job in start'),
    classify_enabled: z.boolean().default(true).describe('schedule the classify job in start'),
    export_enabled: z.boolean().default(true).describe('schedule the export job in start (needs [twenty] url)'),
    timezone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, { message: 'expected an IANA time zone such as "Europe/Paris"' })
      .describe('IANA time zone of the cron schedules'),
  })
  .prefault({});

export const loggingSection = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('least severe level that is logged'),
    format: z
      .enum(['json', 'pretty', 'auto'])
      .default('auto')
      .describe('JSON lines, pretty text, or auto: pretty on a terminal, JSON otherwise'),
  })
  .prefault({});

export const reportSection = z
  .strictObject({
    timezone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, { message: 'expected an IANA time zone such as "Europe/Paris"' })
      .describe('IANA time zone of the report’s days'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  homeserver: homeserverSection,
  appservice: appserviceSection,
  http: httpSection,
  database: databaseSection,
  bridge: bridgeSection,
  wazo: wazoSection,
  whatsapp: whatsappSection,
  sync: syncSection,
  nlp: nlpSection,
  twenty: twentySection,
  jobs: jobsSection,
  logging: loggingSection,
  report: reportSection,
});

export type SectionName = keyof typeof configSchema.shape;
export const SECTION_NAMES = Object.keys(configSchema.shape) as SectionName[];

/** The validated configuration, deeply frozen. Pass sections (`config.twenty`) to the code that needs them. */
export type Config = DeepReadonly<z.output<typeof configSchema>> & { readonly source: ConfigSource };

export interface ConfigSource {
  /** Absolute path of the file read, or undefined when none existed and defaults were used. */
  readonly file: string | undefined;
}

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function isRegex(v: string): boolean {
  try {
    new RegExp(v);
    return true;
  } catch {
    // An invalid pattern is a validation failure, reported by the refine message.
    return false;
  }
}

function isTimeZone(v: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return true;
  } catch {
    // Intl throws RangeError for unknown zones: a validation failure, reported by the refine message.
    return false;
  }
}
