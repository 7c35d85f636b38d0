/**
 * Background start-up check of the homeserver: reachable (`GET /_matrix/client/versions`), our as_token
 * accepted (`whoami` as the bot), and the homeserver able to reach us back (appservice ping, v1.7; when the
 * homeserver lacks it, whoami is enough). Retries with capped backoff until it passes or `signal` aborts;
 * never throws. Each failure is logged with a diagnosis an operator can act on and reported to /health.
 */
import { describeError, RemoteApiError } from '../errors.ts';
import type { HealthRegistry } from '../health.ts';
import type { Logger } from '../log.ts';
import type { MatrixApi } from './api.ts';

export interface HomeserverCheckOptions {
  api: MatrixApi;
  appserviceId: string;
  /** Our own URL as given in the registration, for the diagnosis. */
  appserviceUrl: string;
  health: HealthRegistry;
  log: Logger;
  signal: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
}

export type CheckOutcome = { ok: true; detail: string } | { ok: false; detail: string };

/** One pass of the check. */
export async function checkHomeserverOnce(
  o: Omit<HomeserverCheckOptions, 'signal' | 'sleep' | 'health' | 'log'>,
): Promise<CheckOutcome> {
  const one = { maxAttempts: 1 };
  const api = o.api;
  try {
    await api.request('GET', '/versions', { prefix: '/_matrix/client', retry: one });
  } catch (err) {
    return { ok: false, detail: `homeserver unreachable at ${api.baseUrl}: ${describeError(err)}` };
  }
  try {
    await api.request('GET', '/account/whoami', { retry: one });
  } catch (err) {
    if (err instanceof RemoteApiError && (err.remoteStatus === 401 || err.remoteCode === 'M_UNKNOWN_TOKEN')) {
      return {
        ok: false,
        detail:
          'the homeserver does not know our as_token: registration not installed (add the registration file to the homeserver config and restart it) or token mismatch (regenerated file not re-installed)',
      };
    }
    if (err instanceof RemoteApiError && err.remoteStatus === 403) {
      return {
        ok: false,
        detail: `the homeserver rejects the bot ${api.botUserId}: sender_localpart or namespaces differ from the installed registration`,
      };
    }
    return { ok: false, detail: `whoami as the bot failed: ${describeError(err)}` };
  }
  try {
    await api.request('POST', `/appservice/${encodeURIComponent(o.appserviceId)}/ping`, {
      prefix: '/_matrix/client/v1',
      body: { transaction_id: `mcb_${(o.now ?? Date.now)()}` },
      retry: one,
    });
    return { ok: true, detail: 'homeserver reachable, token accepted, ping round-trip ok' };
  } catch (err) {
    if (
      err instanceof RemoteApiError &&
      (err.remoteStatus === 404 || err.remoteStatus === 405 || err.remoteCode === 'M_UNRECOGNIZED')
    ) {
      return { ok: true, detail: 'homeserver reachable and token accepted (no appservice ping on this homeserver)' };
    }
    if (err instanceof RemoteApiError && err.remoteStatus === 403) {
      return {
        ok: false,
        detail: `the homeserver says our token is not for appservice "${o.appserviceId}": the registration id differs from [appservice] id`,
      };
    }
    if (
      err instanceof RemoteApiError &&
      (err.remoteStatus === 502 || err.remoteStatus === 504 || err.remoteStatus === 400)
    ) {
      return {
        ok: false,
        detail: `the homeserver cannot call us back at ${o.appserviceUrl} (${err.remoteCode ?? err.remoteStatus}): check [appservice] url and the hs_token of the installed registration`,
      };
    }
    return { ok: false, detail: `appservice ping failed: ${describeError(err)}` };
  }
}

/** Runs the check until it passes or the signal aborts. Never throws. */
export async function watchHomeserver(o: HomeserverCheckOptions): Promise<void> {
  let delay = 1000;
  let lastDetail = '';
  while (!o.signal.aborted) {
    const res = await checkHomeserverOnce(o);
    if (o.signal.aborted) return;
    if (res.ok) {
      o.health.ok('homeserver', (o.now ?? Date.now)(), res.detail);
      o.log.info({ detail: res.detail }, 'homeserver check passed');
      return;
    }
    o.health.fail('homeserver', res.detail);
    if (res.detail !== lastDetail) o.log.error({ detail: res.detail, retry_in_ms: delay }, 'homeserver check failed');
    lastDetail = res.detail;
    await o.sleep(delay);
    delay = Math.min(delay * 2, 60_000);
  }
}
