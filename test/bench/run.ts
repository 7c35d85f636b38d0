/**
 * `npm run bench [-- name...]`: runs the benchmark scripts test/bench/<name>.bench.ts one after the other,
 * each in its own process (so peak RSS is per benchmark). Without names, runs them all.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
  process.exit(2);
}
/** The bridge runs with the V8 flag the launcher, `npm start` and the Docker image give `start` (bin/matrix-crm-bridge.mjs). */
const AS_SHIPPED: Record<string, string[]> = {
  appservice: ['--max-semi-space-size=32'],
  relay: ['--max-semi-space-size=32'],
};
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  process.stdout.write(`\n== bench ${name} ==\n`);
  const flags = ['--expose-gc', ...(AS_SHIPPED[name] ?? [])];
  const r = spawnSync(process.execPath, [...flags, `${dir}${name}.bench.ts`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
