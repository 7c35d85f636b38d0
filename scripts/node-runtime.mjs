// Finds a Node.js runtime new enough to run this project's TypeScript directly (>= 22.18 strips types).
// When the system node is older, installs the npm package node@24 (which carries its headers) into a
// cache folder outside the repository, once, and uses that. Plain JavaScript: it must run on old nodes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const MIN_NODE = [22, 18];

export function isRecentEnough(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

export function cacheDir() {
  const base =
    process.env.MCB_NODE_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'matrix-crm-bridge', 'node24');
  return base;
}

/** Folder of the cached Node 24 distribution (holds bin/node and include/node). */
export function cachedNodeDir() {
  return join(cacheDir(), 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
}

/** Installs node@24 into the cache when missing; returns the path of its node binary. */
export function ensureCachedNode({ quiet = false } = {}) {
  const bin = join(cachedNodeDir(), 'bin', 'node');
  if (existsSync(bin)) return bin;
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  if (!quiet)
    process.stderr.write(
      `matrix-crm-bridge: Node ${process.versions.node} is older than ${MIN_NODE.join('.')}; installing node@24 into ${dir}\n`,
    );
  // node@24 unpacks its platform binary in a preinstall script: allow exactly that one (npm >= 11 blocks
  // dependency scripts unless the installing package.json allows them).
  writeFileSync(join(dir, 'package.json'), '{"private":true,"allowScripts":{"node":true}}\n');
  execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', 'node@24'], {
    stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(bin)) throw new Error(`node@24 was installed into ${dir} but ${bin} is missing`);
  return bin;
}

/** The node binary to run the project with. */
export function resolveNode() {
  if (isRecentEnough()) return process.execPath;
  return ensureCachedNode();
}
