/**
 * Request validation against the official Matrix specification (OpenAPI 3.1 files copied, unmodified, from
 * matrix-org/matrix-spec v1.19 into test/specs/matrix; Apache-2.0). The fake homeserver runs every request
 * through {@link MatrixSpec.check}: an unknown endpoint, a missing required query parameter or a body that
 * the spec's JSON Schema rejects is answered like a real homeserver would (404 / 400), so our client code
 * cannot drift from the spec without a test noticing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';

export const SPEC_ROOT = fileURLToPath(new URL('../../../test/specs/matrix/data/api/', import.meta.url));

/** Endpoint files the fakes serve, relative to SPEC_ROOT. */
export const CLIENT_SERVER_FILES = [
  'client-server/appservice_ping.yaml',
  'client-server/registration.yaml',
  'client-server/login.yaml',
  'client-server/whoami.yaml',
  'client-server/create_room.yaml',
  'client-server/inviting.yaml',
  'client-server/joining.yaml',
  'client-server/leaving.yaml',
  'client-server/room_send.yaml',
  'client-server/room_state.yaml',
  'client-server/rooms.yaml',
  'client-server/redaction.yaml',
  'client-server/message_pagination.yaml',
  'client-server/event_context.yaml',
  'client-server/relations.yaml',
  'client-server/list_joined_rooms.yaml',
  'client-server/sync.yaml',
  'client-server/filter.yaml',
  'client-server/profile.yaml',
  'client-server/content-repo.yaml',
  'client-server/authed-content-repo.yaml',
  'client-server/typing.yaml',
  'client-server/receipts.yaml',
  'client-server/versions.yaml',
];
export const APPSERVICE_FILES = [
  'application-service/transactions.yaml',
  'application-service/ping.yaml',
  'application-service/query_user.yaml',
  'application-service/query_room.yaml',
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface Operation {
  method: string;
  /** Full path template, e.g. `/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}`. */
  template: string;
  operationId: string;
  file: string;
  regex: RegExp;
  paramNames: string[];
  requiredQuery: string[];
  bodyRequired: boolean;
  validateBody?: ValidateFunction;
}

export interface SpecCheck {
  ok: boolean;
  operation?: Operation;
  params: Record<string, string>;
  /** HTTP status and Matrix error to answer when not ok. */
  status?: 400 | 404 | 405;
  errcode?: string;
  error?: string;
}

export class MatrixSpec {
  readonly operations: Operation[] = [];
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  readonly #fileCache = new Map<string, Json>();

  constructor(files: string[] = [...CLIENT_SERVER_FILES, ...APPSERVICE_FILES]) {
    for (const f of files) this.#loadFile(f);
  }

  /** Finds the operation for a request and validates its query and JSON body. */
  check(method: string, path: string, query: URLSearchParams, body: unknown, bodyIsJson: boolean): SpecCheck {
    const candidates = this.operations.filter((o) => o.regex.test(path));
    if (candidates.length === 0)
      return { ok: false, params: {}, status: 404, errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' };
    const op = candidates.find((o) => o.method === method.toLowerCase());
    if (!op)
      return { ok: false, params: {}, status: 405, errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request method' };
    const m = op.regex.exec(path)!;
    const params: Record<string, string> = {};
    op.paramNames.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1]);
    });
    for (const q of op.requiredQuery) {
      if (!query.has(q))
        return {
          ok: false,
          operation: op,
          params,
          status: 400,
          errcode: 'M_MISSING_PARAM',
          error: `Missing query parameter: ${q}`,
        };
    }
    if (op.validateBody) {
      if (!bodyIsJson) {
        if (op.bodyRequired)
          return { ok: false, operation: op, params, status: 400, errcode: 'M_NOT_JSON', error: 'Content not JSON.' };
      } else if (!op.validateBody(body)) {
        const msg = (op.validateBody.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
        return {
          ok: false,
          operation: op,
          params,
          status: 400,
          errcode: 'M_BAD_JSON',
          error: `Body does not match the spec (${op.operationId}): ${msg}`,
        };
      }
    }
    return { ok: true, operation: op, params };
  }

  /** Compiles a schema from an arbitrary spec file (e.g. a definition) for direct validation. */
  validator(file: string, pointer = ''): ValidateFunction {
    const abs = resolve(SPEC_ROOT, file);
    const schema = this.#resolve(this.#pointer(this.#read(abs), pointer), abs) as JsonObject;
    return this.#ajv.compile(schema);
  }

  #loadFile(file: string) {
    const abs = join(SPEC_ROOT, file);
    const doc = this.#read(abs) as JsonObject;
    const servers = (doc.servers as JsonObject[] | undefined) ?? [];
    const basePath = ((servers[0]?.variables as JsonObject | undefined)?.basePath as JsonObject | undefined)
      ?.default as string | undefined;
    const prefix = basePath ?? '';
    for (const [p, item] of Object.entries(doc.paths as JsonObject)) {
      for (const [method, raw] of Object.entries(item as JsonObject)) {
        if (!['get', 'put', 'post', 'delete'].includes(method)) continue;
        const opDoc = raw as JsonObject;
        const template = `${prefix}${p.trim()}`; // the spec pads some keys (e.g. "/rooms/{roomId}/invite ") to order them
        const paramNames: string[] = [];
        const regex = new RegExp(
          `^${template
            .split(/(\{[^}]+\})/)
            .map((part) => {
              if (part.startsWith('{')) {
                paramNames.push(part.slice(1, -1));
                return '([^/]*)';
              }
              return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
            })
            .join('')}$`,
        );
        const parameters = ((opDoc.parameters as JsonObject[] | undefined) ?? []).map(
          (prm) => this.#resolve(prm, abs) as JsonObject,
        );
        const requiredQuery = parameters
          .filter((prm) => prm.in === 'query' && prm.required === true)
          .map((prm) => prm.name as string);
        const rb = opDoc.requestBody ? (this.#resolve(opDoc.requestBody, abs) as JsonObject) : undefined;
        const schema = ((rb?.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)
          ?.schema as Json | undefined;
        const op: Operation = {
          method,
          template,
          operationId: (opDoc.operationId as string) ?? `${method} ${template}`,
          file,
          regex,
          paramNames,
          requiredQuery,
          bodyRequired: rb?.required === true,
        };
        if (schema !== undefined) op.validateBody = this.#ajv.compile(this.#resolve(schema, abs) as JsonObject);
        this.operations.push(op);
      }
    }
    // Most specific first: literal segments beat parameters (`/rooms/{id}/state` before `/rooms/{id}/{x}`).
    this.operations.sort(
      (a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length,
    );
  }

  #read(abs: string): Json {
    let doc = this.#fileCache.get(abs);
    if (doc === undefined) {
      doc = parseYaml(readFileSync(abs, 'utf8')) as Json;
      this.#fileCache.set(abs, doc);
    }
    return doc;
  }

  #pointer(doc: Json, pointer: string): Json {
    if (!pointer || pointer === '/') return doc;
    let cur: Json = doc;
    for (const seg of pointer.replace(/^\//, '').split('/')) {
      cur = (cur as JsonObject)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return cur;
  }

  /** Inlines every `$ref` (file-relative, with optional JSON pointer); drops examples, which are not schema. */
  #resolve(node: Json, fromFile: string, depth = 0): Json {
    if (depth > 40) return {};
    if (Array.isArray(node)) return node.map((n) => this.#resolve(n, fromFile, depth + 1));
    if (!node || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      const [filePart, frag = ''] = node.$ref.split('#');
      const target = filePart ? resolve(dirname(fromFile), filePart) : fromFile;
      const resolved = this.#resolve(this.#pointer(this.#read(target), frag), target, depth + 1);
      const { $ref: _ignored, ...rest } = node;
      return Object.keys(rest).length > 0 && resolved && typeof resolved === 'object' && !Array.isArray(resolved)
        ? { ...(resolved as JsonObject), ...(this.#resolve(rest, fromFile, depth + 1) as JsonObject) }
        : resolved;
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'example' || k === 'examples' || k === 'x-example') continue;
      out[k] = this.#resolve(v, fromFile, depth + 1);
    }
    return out;
  }
}
