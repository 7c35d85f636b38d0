/** Writes schemas/config.schema.json from the zod schema (the single source of truth). */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from './schema.ts';

const target = new URL('../../schemas/config.schema.json', import.meta.url);
const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
writeFileSync(target, `${JSON.stringify({ title: 'matrix-crm-bridge config.toml', ...json }, null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
