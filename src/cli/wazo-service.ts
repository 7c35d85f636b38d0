/**
 * The Wazo connector as a part of `start`: built when `[wazo] url` is set, handed to the appservice core, and
 * (with `[wazo] events = "webhook"`) contributing the webhook sub-app at `/wazo`. The core starts and stops the
 * connector itself; this service only owns the cursor flush and the health entry.
 */
import { ConfigError } from '../errors.ts';
import { createWebhookApp, sqliteCursor, sqliteInbox, WazoConnector } from '../wazo/index.ts';
import type { Runtime } from './runtime.ts';
import type { Service } from './services.ts';

export interface WazoPart {
  connector: WazoConnector;
  service: Service;
}

/** Undefined when `[wazo] url` is empty (the Wazo part is off). Throws ConfigError for missing secrets. */
export function wazoPart(rt: Runtime): WazoPart | undefined {
  const w = rt.config.wazo;
  if (!w.url) return undefined;
  if (!w.service_username || !w.service_password) {
    throw new ConfigError(
      'wazo.service_username',
      '[wazo] url is set but MCB_WAZO_SERVICE_USERNAME / MCB_WAZO_SERVICE_PASSWORD are not: set the service account credentials in the environment',
    );
  }
  if (w.events === 'webhook' && !w.webhook_secret) {
    throw new ConfigError(
      'wazo.webhook_secret',
      '[wazo] events = "webhook" needs MCB_WAZO_WEBHOOK_SECRET (a long random string)',
    );
  }
  const log = rt.log.child({ component: 'wazo' });
  const cursor = sqliteCursor(rt.database(), Date.now);
  rt.health.declare('wazo', true);
  const connector = new WazoConnector({
    wazo: w,
    bridge: rt.config.bridge,
    log,
    cursor,
    inbox: sqliteInbox(rt.database(), Date.now),
    onHealth: (ok, detail) => (ok ? rt.health.ok('wazo', Date.now(), detail) : rt.health.fail('wazo', detail)),
  });
  const mounts =
    w.events === 'webhook' && w.webhook_secret
      ? [
          {
            path: '/wazo',
            app: createWebhookApp({ secret: w.webhook_secret, handle: (e) => connector.handleWebhookEvent(e), log }),
          },
        ]
      : [];
  return {
    connector,
    service: {
      name: 'wazo',
      mounts,
      async start() {
        // The appservice core starts the connector once its own state is loaded.
      },
      async stop() {
        cursor.flush();
      },
    },
  };
}
