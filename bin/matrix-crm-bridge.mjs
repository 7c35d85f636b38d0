#!/usr/bin/env node
// CLI entry point. Runs src/cli/main.ts in this process when the runtime strips TypeScript types itself
// (Node >= 22.18) and already has our V8 flag; otherwise re-executes it, under a cached Node 24 when this one
// is too old (see scripts/node-runtime.mjs).
//
// The flag sizes V8's young generation (MiB per semi-space), read only at start-up, hence the re-execution
// when it is missing: 8 for every command (with Node 24's default a long sync holds ~100 MB more RSS for no
// speed gain), 32 for `start`, where the bridge spends ~25 % less CPU per message under load for ~40 MB more
// (docs/benchmarks.md, sync and relay).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRecentEnough, ensureCachedNode } from '../scripts/node-runtime.mjs';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const FLAG = '--max-semi-space-size';
/** The command: the first argument that is neither an option nor the value of --config / -c. */
function command(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config' || args[i] === '-c') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return undefined;
}
const hasFlag = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith(FLAG));
if (isRecentEnough() && hasFlag) {
  const { runCli } = await import(main);
  await runCli(process.argv.slice(2));
} else {
  // V8 flags given to this launcher go to the real process too.
  const node = isRecentEnough() ? process.execPath : ensureCachedNode();
  const size = command(process.argv.slice(2)) === 'start' ? 32 : 8;
  const flags = hasFlag ? process.execArgv : [...process.execArgv, `${FLAG}=${size}`];
  const child = spawn(node, [...flags, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
