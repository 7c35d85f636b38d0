/**
 * A fake Twenty server: real HTTP on 127.0.0.1 (port 0 by default) serving `POST /graphql` and
 * `POST /metadata` with bearer-key auth (a refused key gets HTTP 200 and a path-less `UNAUTHENTICATED`
 * error, as Twenty's auth middleware answers), a per-workspace rate limit (one token per root field,
 * GraphQL `BAD_USER_INPUT` "Rate limit reached" error with HTTP 200), failure switches, and a log of every
 * request for assertions. Shipped (not test-only) because the demo runs it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  execute,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  parse,
  type OperationDefinitionNode,
  validate,
} from 'graphql';
import { buildCoreSchema } from './core-schema.ts';
import { type FakeObject, standardObjects, type TwentyVersion } from './data-model.ts';
import { buildMetadataSchema } from './metadata-schema.ts';
import { type RecordRow, RecordStore } from './records.ts';

export interface FakeTwentyOptions {
  /** Accepted API keys (default `['test-key']`). All keys share one workspace and one rate bucket. */
  apiKeys?: string[];
  /** `2.x` (default) or the older `1.x` shapes. */
  version?: TwentyVersion;
  /** Root operations allowed per `rateWindowMs` (default 100 per 60 000 ms, like Twenty's long bucket). */
  rateLimit?: number;
  rateWindowMs?: number;
  /** Max records per createMany (default 200 on 2.x, 60 on 1.x). */
  maxRecords?: number;
  /** Core requests answered with the previous schema after a metadata change (cache lag, PR #19343). */
  schemaLag?: number;
  /** Real milliseconds to wait before answering each request (to widen windows in crash tests). */
  responseDelayMs?: number;
  /** Clock (epoch ms) used by the rate limiter and timestamps; inject a virtual one in tests. */
  now?: () => number;
  port?: number;
}

export interface RecordedRequest {
  endpoint: 'graphql' | 'metadata';
  operation: 'query' | 'mutation' | 'invalid';
  /** Root field names in document order (aliases resolved to the field). */
  rootFields: string[];
  variables: Record<string, unknown>;
  status: number;
  /** Root fields that failed with the rate-limit error. */
  rateLimited: string[];
}

export type FailureKind = 'http500' | 'http429' | 'network' | 'rateLimit';

export class FakeTwenty {
  readonly version: TwentyVersion;
  readonly objects: FakeObject[];
  readonly store: RecordStore;
  readonly requests: RecordedRequest[] = [];
  private readonly apiKeys: string[];
  private readonly rateLimit: number;
  private readonly rateWindowMs: number;
  private readonly schemaLag: number;
  private readonly now: () => number;
  private readonly port: number;
  private readonly responseDelayMs: number;
  private server: Server | undefined;
  private coreSchema: GraphQLSchema;
  private coreDirty = false;
  private lagRemaining = 0;
  private readonly metadata: { schema: GraphQLSchema; root: Record<string, unknown> };
  private readonly failures: FailureKind[] = [];
  private tokens: number;
  private refilledAt: number;
  private current: RecordedRequest | undefined;
  url = '';

  constructor(opts: FakeTwentyOptions = {}) {
    this.version = opts.version ?? '2.x';
    this.apiKeys = opts.apiKeys ?? ['test-key'];
    this.rateLimit = opts.rateLimit ?? 100;
    this.rateWindowMs = opts.rateWindowMs ?? 60_000;
    this.schemaLag = opts.schemaLag ?? 0;
    this.now = opts.now ?? Date.now;
    this.port = opts.port ?? 0;
    this.responseDelayMs = opts.responseDelayMs ?? 0;
    this.tokens = this.rateLimit;
    this.refilledAt = this.now();
    this.objects = standardObjects(this.version);
    this.store = new RecordStore({ maxRecords: opts.maxRecords ?? (this.version === '2.x' ? 200 : 60), now: this.now });
    this.coreSchema = this.buildCore();
    this.metadata = buildMetadataSchema(this.version, {
      objects: this.objects,
      changed: () => {
        this.coreDirty = true;
        this.lagRemaining = this.schemaLag;
      },
      guard: (f) => this.guard(f),
    });
  }

  private buildCore(): GraphQLSchema {
    return buildCoreSchema(this.objects, this.store, this.version, (f) => this.guard(f));
  }

  /** Queues failures for the next requests, one per request, in order. */
  failNext(...kinds: FailureKind[]): void {
    this.failures.push(...kinds);
  }

  /** Live (not soft-deleted) rows of an object, e.g. `rows('person')`. */
  rows(nameSingular: string, opts: { withDeleted?: boolean } = {}): RecordRow[] {
    const obj = this.objects.find((o) => o.nameSingular === nameSingular);
    if (!obj) return [];
    return [...this.store.table(obj).values()].filter((r) => opts.withDeleted || !r.deletedAt);
  }

  /** Root mutations received on `/graphql` (what "zero mutations" assertions count). */
  mutations(): RecordedRequest[] {
    return this.requests.filter((r) => r.endpoint === 'graphql' && r.operation === 'mutation');
  }

  /**
   * Makes every createMany containing a matching record fail as a whole (content rejection), like an
   * address or number Twenty refuses. Return the error message for a record to reject it.
   */
  set rejectRecord(fn: ((objectName: string, data: Record<string, unknown>) => string | undefined) | undefined) {
    this.store.reject = fn;
  }

  /** Marks a field of an object with another type, to simulate drift made by a human in the UI. */
  setFieldType(nameSingular: string, field: string, type: string): void {
    const f = this.objects.find((o) => o.nameSingular === nameSingular)?.fields.find((x) => x.name === field);
    if (!f) throw new Error(`no field ${nameSingular}.${field}`);
    f.type = type;
    this.coreDirty = true;
  }

  /** Token bucket per workspace, refilled continuously (`rateLimit` tokens per `rateWindowMs`). */
  private guard(rootField: string): void {
    const now = this.now();
    this.tokens = Math.min(
      this.rateLimit,
      this.tokens + ((now - this.refilledAt) * this.rateLimit) / this.rateWindowMs,
    );
    this.refilledAt = now;
    if (this.tokens < 1 - 1e-9) {
      this.current?.rateLimited.push(rootField);
      const msg = `Rate limit reached (${this.rateLimit} tokens per ${this.rateWindowMs} ms)`;
      throw new GraphQLError(msg, {
        extensions: { code: 'BAD_USER_INPUT', userFriendlyMessage: 'Rate limit reached. Please try again later.' },
      });
    }
    this.tokens -= 1;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug in the fake itself: answer 500 so the test sees it rather than hanging.
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: String(err), extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0];
    const endpoint = path === '/graphql' ? 'graphql' : path === '/metadata' ? 'metadata' : undefined;
    if (!endpoint || req.method !== 'POST')
      return send(404, { statusCode: 404, error: 'Not Found', messages: [`Cannot ${req.method} ${path}`] });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = req.headers.authorization ?? '';
    if (!this.apiKeys.some((k) => auth === `Bearer ${k}`)) {
      // Like Twenty's GraphQL auth middleware: HTTP 200 with a path-less UNAUTHENTICATED error, no data.
      return send(200, { errors: [{ message: 'Token invalid.', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    if (this.responseDelayMs > 0) await new Promise((r) => setTimeout(r, this.responseDelayMs));
    const failure = this.failures.shift();
    if (failure === 'network') {
      req.socket.destroy();
      return;
    }
    if (failure === 'http500')
      return send(500, {
        errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
    if (failure === 'http429')
      return send(429, {
        statusCode: 429,
        error: 'Too Many Requests',
        messages: ['Limit reached (100 tokens per 60000 ms)'],
      });

    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { errors: [{ message: 'Invalid JSON body', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    const variables = (body.variables ?? {}) as Record<string, unknown>;
    const rec: RecordedRequest = {
      endpoint,
      operation: 'invalid',
      rootFields: [],
      variables,
      status: 200,
      rateLimited: [],
    };
    this.requests.push(rec);
    if (typeof body.query !== 'string') {
      rec.status = 400;
      return send(400, { errors: [{ message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST' } }] });
    }
    let doc: ReturnType<typeof parse>;
    try {
      doc = parse(body.query);
    } catch (err) {
      rec.status = 400;
      return send(400, {
        errors: [{ message: (err as Error).message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }],
      });
    }
    const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    rec.operation = op?.operation === 'mutation' ? 'mutation' : op?.operation === 'query' ? 'query' : 'invalid';
    rec.rootFields = (op?.selectionSet.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
    let schema: GraphQLSchema;
    let rootValue: unknown;
    if (endpoint === 'metadata') {
      schema = this.metadata.schema;
      rootValue = this.metadata.root;
    } else {
      if (this.lagRemaining > 0) this.lagRemaining--;
      else if (this.coreDirty) {
        this.coreSchema = this.buildCore();
        this.coreDirty = false;
      }
      schema = this.coreSchema;
    }
    const errors = validate(schema, doc);
    if (errors.length > 0) {
      rec.status = 400;
      return send(400, {
        errors: errors.map((e) => ({ message: e.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
      });
    }
    if (failure === 'rateLimit') {
      // Exhaust the bucket so that every root field of this request is refused.
      this.tokens = 0;
      this.refilledAt = this.now();
    }
    this.current = rec;
    const result = await execute({ schema, document: doc, rootValue, variableValues: variables });
    this.current = undefined;
    send(200, {
      data: result.data ?? null,
      ...(result.errors
        ? { errors: result.errors.map((e) => ({ message: e.message, path: e.path, extensions: e.extensions })) }
        : {}),
    });
  }
}
