/**
 * Writes the configuration reference (every key, its type, default and meaning) into README.md between
 * the `<!-- config-reference:start -->` and `<!-- config-reference:end -->` markers, from the zod schema.
 * `npm run docs:config`; a test checks the README is up to date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, SECRET_KEYS } from './schema.ts';

const README = new URL('../../README.md', import.meta.url);
const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' \\| ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return 'table';
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

/** The markdown table of every key. */
export function configReference(): string {
  const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: string[] = ['| key | type | default | env | meaning |', '| --- | --- | --- | --- | --- |'];
  const walk = (prefix: string[], s: JsonSchema) => {
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      const path = [...prefix, k];
      const isTable = v.type === 'object' && v.properties;
      if (isTable && path.length < 3) {
        walk(path, v);
        continue;
      }
      const dotted = path.join('.');
      const secret = SECRET_KEYS[dotted];
      const env = path.length >= 2 ? `MCB_${path.join('_')}`.toUpperCase() : '';
      const def = secret ? '(secret: env only)' : v.default === undefined ? '' : `\`${JSON.stringify(v.default)}\``;
      const meaning = (secret ?? v.description ?? '').replace(/\|/g, '\\|');
      rows.push(
        `| \`${dotted}\` | ${typeOf(v)} | ${def} | ${env ? `\`${env}\`${secret ? ` / \`${env}_FILE\`` : ''}` : ''} | ${meaning} |`,
      );
    }
  };
  walk([], json);
  return rows.join('\n');
}

/** README with the reference block replaced. */
export function readmeWithReference(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} / ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${configReference()}\n${readme.slice(b)}`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const text = readFileSync(README, 'utf8');
  writeFileSync(README, readmeWithReference(text));
  process.stdout.write('README.md config reference updated\n');
}
