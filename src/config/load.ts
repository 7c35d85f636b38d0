/**
 * Reads config.toml, overlays `MCB_<SECTION>_<KEY>` environment variables and `*_FILE` secrets,
 * validates everything once and returns a deeply frozen {@link Config}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { registerSecret } from '../log.ts';
import { type Config, configSchema, SECRET_KEYS, SECTION_NAMES, type SectionName } from './schema.ts';

export interface LoadOptions {
  /** Path from `--config`; falls back to `MCB_CONFIG`, then `./config.toml`. */
  path?: string;
  /** Environment to read overrides and secrets from (tests pass their own). */
  env?: Record<string, string | undefined>;
  /** Sections the command uses: problems in other sections do not stop it (they fall back to defaults). */
  sections?: readonly SectionName[];
  /** Called with problems found in sections the command does not use. */
  onIgnoredProblem?: (message: string) => void;
  /** Called with things that do not stop the command but are probably mistakes (an unknown `MCB_*` variable). */
  onWarning?: (message: string) => void;
}

type Raw = Record<string, unknown>;

/** Loads and validates the configuration. Throws {@link ConfigError} listing every problem found. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const explicit = opts.path ?? env.MCB_CONFIG;
  const path = resolve(explicit ?? 'config.toml');
  const fileLabel = explicit ?? 'config.toml';
  let raw: Raw = {};
  let file: string | undefined;
  if (existsSync(path)) {
    file = path;
    raw = readToml(path, fileLabel);
  } else if (explicit) {
    throw new ConfigError('', `config file ${explicit} does not exist (from ${opts.path ? '--config' : 'MCB_CONFIG'})`);
  }

  const problems: { section: string; message: string }[] = [];
  for (const key of Object.keys(raw)) {
    if (!SECTION_NAMES.includes(key as SectionName)) {
      problems.push({
        section: key,
        message: `${fileLabel}: unknown section [${key}]; known sections: ${SECTION_NAMES.join(', ')}`,
      });
    }
  }
  for (const secretKey of Object.keys(SECRET_KEYS)) {
    const [section, key] = secretKey.split('.');
    const sec = raw[section];
    if (sec && typeof sec === 'object' && key in (sec as Raw)) {
      problems.push({
        section,
        message: `${fileLabel}: [${section}] ${key} is a secret and must not be in the file; set ${envName(section, key)} or ${envName(section, key)}_FILE instead`,
      });
      delete (sec as Raw)[key];
    }
  }
  const origins = applyEnv(raw, env, problems);

  const out: Raw = {};
  for (const section of SECTION_NAMES) {
    const schema = configSchema.shape[section] as z.ZodType;
    const result = schema.safeParse(raw[section], { reportInput: true });
    if (result.success) {
      out[section] = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      const keyPath = [section, ...issue.path.map(String)].join('.');
      // A value set by an environment variable is reported under that variable's name, not the file's.
      const from =
        origins.get([section, ...issue.path.slice(0, 2).map(String)].join('.')) ??
        origins.get([section, ...issue.path.slice(0, 1).map(String)].join('.')) ??
        fileLabel;
      problems.push({
        section,
        message: `${from}: ${keyPath}: ${describeIssue(issue, schemaHint(section, issue.path))}`,
      });
    }
    out[section] = (configSchema.shape[section] as z.ZodType).parse(undefined);
  }

  const used = opts.sections;
  const fatal = problems.filter(
    (p) => !used || used.includes(p.section as SectionName) || !SECTION_NAMES.includes(p.section as SectionName),
  );
  for (const p of problems) if (!fatal.includes(p)) opts.onIgnoredProblem?.(p.message);
  if (fatal.length > 0) {
    const first = fatal[0];
    throw new ConfigError(first.section, fatal.map((p) => p.message).join('\n'), {
      problems: fatal.map((p) => p.message),
    });
  }

  for (const secretKey of Object.keys(SECRET_KEYS)) {
    const [section, key] = secretKey.split('.');
    registerSecret((out[section] as Raw)[key] as string | undefined);
  }
  if (opts.onWarning) {
    const known = knownEnvNames();
    for (const a of (out.sync as { accounts: { access_token_env?: string }[] }).accounts)
      if (a.access_token_env) known.add(a.access_token_env);
    for (const name of Object.keys(env)
      .filter((n) => n.startsWith('MCB_') && !known.has(n))
      .sort())
      opts.onWarning(
        `environment variable ${name} matches no config key and is ignored (check the spelling; the keys are listed in README.md, "Configuration")`,
      );
  }
  return deepFreeze({ ...out, source: { file } }) as unknown as Config;
}

/** `MCB_<SECTION>_<KEY>` in upper case. */
export function envName(section: string, key: string): string {
  return `MCB_${section}_${key}`.toUpperCase();
}

function readToml(path: string, label: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read ${label}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseToml(text) as Raw;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    throw new ConfigError('', `${label} is not valid TOML${where}: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
    });
  }
}

/**
 * Overlays environment variables onto the raw file content, coerced to the type the schema expects.
 * `MCB_<SECTION>_<KEY>` for every key, and `MCB_<SECTION>_<TABLE>_<KEY>` for the keys of a nested table
 * (`MCB_BRIDGE_DOUBLE_PUPPET_ENABLED`). An empty secret variable counts as unset: compose files pass
 * `${VAR:-}` for secrets an operator has not filled in yet. Returns where each overridden key came from.
 */
function applyEnv(
  raw: Raw,
  env: Record<string, string | undefined>,
  problems: { section: string; message: string }[],
): Map<string, string> {
  const origins = new Map<string, string>();
  const apply = (section: SectionName, path: string[], t: z.ZodType) => {
    const name = envName(section, path.join('_'));
    const keyPath = [section, ...path].join('.');
    const secret = keyPath in SECRET_KEYS;
    let value = env[name];
    if (secret && value === '') value = undefined;
    let from = name;
    const fileVar = env[`${name}_FILE`];
    if (value === undefined && fileVar !== undefined && fileVar !== '') {
      from = `${name}_FILE`;
      try {
        value = readFileSync(fileVar, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push({ section, message: `${name}_FILE: cannot read ${fileVar}: ${(err as Error).message}` });
        return;
      }
      if (secret && value.trim() === '') {
        problems.push({ section, message: `${name}_FILE: ${fileVar} is empty (it should hold ${keyPath})` });
        return;
      }
    }
    if (value === undefined) return;
    let target = raw;
    for (const k of [section, ...path.slice(0, -1)]) {
      const next = target[k];
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) target[k] = {};
      target = target[k] as Raw;
    }
    const coerced = coerce(value, baseType(t));
    if (coerced.ok) {
      target[path[path.length - 1]] = coerced.value;
      origins.set(keyPath, from);
    } else problems.push({ section, message: `${from}: ${coerced.error} (${keyPath})` });
  };
  for (const section of SECTION_NAMES) {
    const shape = sectionShape(section);
    for (const key of Object.keys(shape)) {
      apply(section, [key], shape[key]);
      const nested = objectShape(shape[key]);
      for (const sub of Object.keys(nested ?? {})) apply(section, [key, sub], nested![sub]);
    }
  }
  return origins;
}

/** Every `MCB_*` variable name the loader reads (with its `_FILE` variants). */
export function knownEnvNames(): Set<string> {
  const names = new Set(['MCB_CONFIG', 'MCB_NODE_CACHE']);
  for (const section of SECTION_NAMES) {
    const shape = sectionShape(section);
    for (const key of Object.keys(shape)) {
      names.add(envName(section, key));
      for (const sub of Object.keys(objectShape(shape[key]) ?? {})) names.add(envName(section, `${key}_${sub}`));
    }
  }
  for (const n of [...names]) names.add(`${n}_FILE`);
  return names;
}

/** The keys of a (possibly defaulted) table schema; undefined for anything else. */
function objectShape(t: z.ZodType): Record<string, z.ZodType> | undefined {
  let cur = t as unknown as { def: { type: string; innerType?: unknown; shape?: unknown } };
  while (cur.def.innerType) cur = cur.def.innerType as typeof cur;
  return cur.def.type === 'object' ? (cur.def.shape as Record<string, z.ZodType>) : undefined;
}

function sectionShape(section: SectionName): Record<string, z.ZodType> {
  let t = configSchema.shape[section] as unknown as { def: { type: string; innerType?: unknown; shape?: unknown } };
  while (t.def.innerType) t = t.def.innerType as typeof t;
  return (t.def.shape ?? {}) as Record<string, z.ZodType>;
}

function baseType(t: z.ZodType): string {
  let cur = t as unknown as { def: { type: string; innerType?: unknown; in?: unknown } };
  for (let i = 0; i < 10; i++) {
    if (cur.def.innerType) cur = cur.def.innerType as typeof cur;
    else if (cur.def.type === 'pipe' && cur.def.in) cur = cur.def.in as typeof cur;
    else break;
  }
  return cur.def.type;
}

function coerce(value: string, type: string): { ok: true; value: unknown } | { ok: false; error: string } {
  switch (type) {
    case 'number':
    case 'int': {
      const n = Number(value);
      return value.trim() !== '' && Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, error: `expected a number, got "${value}"` };
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(value)) return { ok: true, value: true };
      if (/^(false|0|no|off)$/i.test(value)) return { ok: true, value: false };
      return { ok: false, error: `expected true or false, got "${value}"` };
    case 'array':
    case 'object':
    case 'record':
      try {
        return { ok: true, value: (parseToml(`v = ${value}`) as Raw).v };
      } catch {
        // Not TOML: a comma-separated list is accepted for arrays; anything else is reported.
        if (type === 'array')
          return {
            ok: true,
            value: value
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          };
        return { ok: false, error: `expected an inline TOML table such as { key = "value" }, got "${value}"` };
      }
    default:
      return { ok: true, value };
  }
}

function schemaHint(section: SectionName, path: PropertyKey[]): string | undefined {
  if (path.length !== 1) return undefined;
  const t = sectionShape(section)[String(path[0])];
  return t?.description;
}

function describeIssue(issue: z.core.$ZodIssue, hint: string | undefined): string {
  let msg: string;
  switch (issue.code) {
    case 'unrecognized_keys':
      msg = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling)`;
      break;
    case 'invalid_type':
      msg = `expected ${issue.expected}${'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : ''}`;
      break;
    default:
      msg = issue.message;
  }
  return hint && issue.code !== 'unrecognized_keys' ? `${msg} (${hint})` : msg;
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}
