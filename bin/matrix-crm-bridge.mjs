#!/usr/bin/env node
// CLI entry point. Runs src/cli/main.ts in this process when the runtime strips TypeScript types itself
// (Node >= 22.18) and already has our V8 flag; otherwise re-executes it, under a cached Node 24 when this one
// is too old (see scripts/node-runtime.mjs).
//
// The flag: `--max-semi-space-size=8` caps V8's young generation at 8 MiB per semi-space. With Node 24's
// default (up to 64 MiB) a long sync holds ~100 MB more RSS for no speed gain (docs/benchmarks.md, sync);
// V8 reads it only at start-up, hence the re-execution when it is missing.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRecentEnough, ensureCachedNode } from '../scripts/node-runtime.mjs';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const FLAG = '--max-semi-space-size';
const hasFlag = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith(FLAG));
if (isRecentEnough() && hasFlag) {
  const { runCli } = await import(main);
  await runCli(process.argv.slice(2));
} else {
  // V8 flags given to this launcher go to the real process too.
  const node = isRecentEnough() ? process.execPath : ensureCachedNode();
  const flags = hasFlag ? process.execArgv : [...process.execArgv, `${FLAG}=8`];
  const child = spawn(node, [...flags, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
