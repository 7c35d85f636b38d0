// Docker HEALTHCHECK: GET /health where `start` listens, read from the same config file and MCB_* variables
// as `start` ([http] host and port), so a port or host changed in config.toml is followed. Exit 0 when the
// service answers below 500 (it answers 200 "degraded" while an upstream is down, 503 when its database
// fails), 1 otherwise.
const { loadConfig } = await import('../src/config/index.ts');

let host;
let port;
try {
  ({ host, port } = loadConfig({ sections: ['http'] }).http);
} catch (err) {
  process.stderr.write(`healthcheck: ${err.message}\n`);
  process.exit(1);
}
// A wildcard bind answers on loopback.
if (host === '0.0.0.0') host = '127.0.0.1';
else if (host === '::') host = '::1';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/health`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (res.status >= 500) process.stderr.write(`healthcheck: ${url} answered ${res.status}\n`);
  process.exit(res.status < 500 ? 0 : 1);
} catch (err) {
  process.stderr.write(`healthcheck: ${url}: ${err.cause?.message ?? err.message}\n`);
  process.exit(1);
}
