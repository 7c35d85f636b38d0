/**
 * The appservice as a {@link Service}: reads the tokens from the registration file, builds the Matrix
 * client, the bridge core and the homeserver → appservice routes, and checks the homeserver in the
 * background once the HTTP server listens.
 */
import { resolve } from 'node:path';
import { Bridge, type NetworkConnector } from '../bridge/index.ts';
import { parseEncryptionKey } from '../db/index.ts';
import { APPSERVICE_BODY_LIMITS, createAppserviceApp } from '../http/appservice.ts';
import { startWalCheckpointer, type WalCheckpointer } from '../db/index.ts';
import { ConfigError } from '../errors.ts';
import { registerSecret } from '../log.ts';
import { abortableSleep, MatrixApi, readRegistration, realSleep, watchHomeserver } from '../matrix/index.ts';
import type { Runtime } from './runtime.ts';
import type { Service } from './services.ts';

export function appserviceService(rt: Runtime, connector?: NetworkConnector): Service {
  const cfg = rt.config;
  const reg = readRegistration(resolve(cfg.appservice.registration));
  registerSecret(reg.as_token);
  registerSecret(reg.hs_token);
  const log = rt.log.child({ component: 'appservice' });
  if (reg.sender_localpart !== cfg.appservice.bot_localpart || reg.id !== cfg.appservice.id) {
    log.warn(
      {
        registration: { id: reg.id, sender_localpart: reg.sender_localpart },
        config: { id: cfg.appservice.id, bot_localpart: cfg.appservice.bot_localpart },
      },
      'registration file differs from [appservice]; using the file (run generate-registration and re-install it to align)',
    );
  }
  const domain = cfg.homeserver.domain;
  const api = new MatrixApi({
    baseUrl: cfg.homeserver.url,
    asToken: reg.as_token,
    botUserId: `@${reg.sender_localpart}:${domain}`,
  });
  const dp = cfg.bridge.double_puppet;
  let doublePuppetApi: MatrixApi | undefined;
  if (dp.enabled) {
    if (!dp.registration) {
      throw new ConfigError(
        'bridge.double_puppet.registration',
        '[bridge.double_puppet] enabled = true needs registration = "<path>": write one with `generate-registration --double-puppet`',
      );
    }
    const dpReg = readRegistration(resolve(dp.registration));
    registerSecret(dpReg.as_token);
    doublePuppetApi = new MatrixApi({
      baseUrl: cfg.homeserver.url,
      asToken: dpReg.as_token,
      botUserId: `@${dpReg.sender_localpart}:${domain}`,
    });
  }
  const bridge = new Bridge({
    database: rt.database(),
    api,
    doublePuppetApi,
    // Optional here (login-matrix is off without it); the Wazo connector requires it for its own tokens.
    encryptionKey: cfg.bridge.encryption_key ? parseEncryptionKey(cfg.bridge.encryption_key) : undefined,
    connector,
    log: rt.log,
    metrics: rt.metrics,
    options: {
      domain,
      appserviceId: reg.id,
      botLocalpart: reg.sender_localpart,
      ghostPrefix: cfg.appservice.ghost_prefix,
      hsToken: reg.hs_token,
      permissions: cfg.bridge.permissions,
      relay: cfg.bridge.relay,
      reactions: cfg.bridge.reactions,
      publicMediaUrl: cfg.bridge.public_media_url,
    },
  });
  rt.health.declare('homeserver', true);
  const app = createAppserviceApp({ hsToken: reg.hs_token, handler: bridge, log });
  let watcher: Promise<void> | undefined;
  let checkpointer: WalCheckpointer | undefined;
  return {
    name: 'appservice',
    mounts: [{ path: '/', app, bodyLimits: APPSERVICE_BODY_LIMITS }],
    async start(signal) {
      watcher = watchHomeserver({
        api,
        appserviceId: reg.id,
        appserviceUrl: reg.url ?? '',
        health: rt.health,
        log,
        signal,
        sleep: abortableSleep(realSleep, signal),
      });
      checkpointer = startWalCheckpointer(rt.database(), { log });
      await bridge.start(signal);
    },
    async stop() {
      await bridge.stop();
      await watcher;
      await checkpointer?.stop();
    },
  };
}
