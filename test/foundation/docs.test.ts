import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { configSchema } from '../../src/config/schema.ts';
import { readmeWithReference } from '../../src/config/write-docs.ts';

describe('generated documents', () => {
  it('README.md lists every config key (run `npm run docs:config` after changing the schema)', () => {
    const readme = readFileSync('README.md', 'utf8');
    assert.equal(readme, readmeWithReference(readme));
  });

  it('schemas/config.schema.json matches the zod schema (run `npm run schema:config`)', () => {
    const committed = JSON.parse(readFileSync('schemas/config.schema.json', 'utf8')) as Record<string, unknown>;
    const fresh = {
      title: 'matrix-crm-bridge config.toml',
      ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    };
    assert.deepEqual(committed, JSON.parse(JSON.stringify(fresh)));
  });

  it('README keeps exactly the two set-up commands near the top', () => {
    const readme = readFileSync('README.md', 'utf8');
    const top = readme.slice(0, readme.indexOf('## What it is'));
    const commands = [...top.matchAll(/```sh\n([^`]+)```/g)].map((m) => m[1].trim());
    assert.deepEqual(commands, ['npm ci && npm run demo', 'npm ci && npm test']);
  });
});
