// Runs `node <args>` with a Node.js new enough for this project (see node-runtime.mjs).
import { spawn } from 'node:child_process';
import { resolveNode } from './node-runtime.mjs';

const node = resolveNode();
const child = spawn(node, process.argv.slice(2), { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
