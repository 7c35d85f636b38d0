// After `npm ci`/`npm install`: make sure a Node.js >= 22.18 is available to run the project.
import { ensureCachedNode, isRecentEnough } from './node-runtime.mjs';

if (!isRecentEnough()) {
  try {
    ensureCachedNode();
  } catch (err) {
    process.stderr.write(
      `matrix-crm-bridge: could not install node@24 (${err.message}); install Node.js >= 22.18 yourself.\n`,
    );
  }
}
