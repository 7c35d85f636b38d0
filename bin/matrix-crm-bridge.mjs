#!/usr/bin/env node
// CLI entry point. Runs src/cli/main.ts in this process when the runtime strips TypeScript types itself
// (Node >= 22.18), otherwise re-executes it under a cached Node 24 (see scripts/node-runtime.mjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRecentEnough, ensureCachedNode } from '../scripts/node-runtime.mjs';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
if (isRecentEnough()) {
  const { runCli } = await import(main);
  await runCli(process.argv.slice(2));
} else {
  // V8 flags given to this launcher (e.g. --max-semi-space-size by npm start) go to the real process too.
  const child = spawn(ensureCachedNode(), [...process.execArgv, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
