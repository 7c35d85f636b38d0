/** Serves a hono app with @hono/node-server and closes it gracefully. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningServer {
  /** Port actually bound (useful with port 0). */
  readonly port: number;
  readonly host: string;
  readonly url: string;
  /** Stops accepting, waits for in-flight requests (up to `graceMs`), then closes remaining sockets. */
  close(graceMs?: number): Promise<void>;
}

export function startServer(app: Hono, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const h = info.address.includes(':') ? `[${info.address}]` : info.address;
      resolve({
        port: info.port,
        host: info.address,
        url: `http://${h}:${info.port}`,
        close: (graceMs = 4000) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => {
              if ('closeAllConnections' in server) (server as { closeAllConnections(): void }).closeAllConnections();
            }, graceMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            if ('closeIdleConnections' in server) (server as { closeIdleConnections(): void }).closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
