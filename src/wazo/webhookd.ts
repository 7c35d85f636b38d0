/**
 * wazo-webhookd admin subscriptions: the bridge owns one subscription (tagged `metadata.owner`) that posts the
 * chat events to `POST <public_url>/wazo/events/<secret>`. ensureSubscription is idempotent: it finds ours by
 * metadata, updates it when the URL or events changed, and creates it otherwise.
 */
import type { TokenProvider } from './auth.ts';
import type { WazoHttp, WazoRequest } from './http.ts';
import { CHAT_EVENTS, subscriptionListSchema, subscriptionSchema, type WazoSubscription } from './schemas.ts';
import type { z } from 'zod';

const WEBHOOKD = '/api/webhookd/1.0';
export const SUBSCRIPTION_OWNER = 'matrix-crm-bridge';

/** The body template: keeps the event name next to the data (webhookd's default body drops it). */
export const WEBHOOK_BODY_TEMPLATE =
  '{"event": "{{ event_name }}", "wazo": "{{ wazo_uuid }}", "data": {{ event|tojson }}}';

export interface SubscriptionSpec {
  url: string;
  verifyTls: boolean;
}

export function subscriptionBody(spec: SubscriptionSpec): Record<string, unknown> {
  return {
    name: 'matrix-crm-bridge chat',
    service: 'http',
    events: [...CHAT_EVENTS],
    config: {
      url: spec.url,
      method: 'post',
      verify_certificate: spec.verifyTls ? 'true' : 'false',
      content_type: 'application/json',
      body: WEBHOOK_BODY_TEMPLATE,
    },
    metadata: { owner: SUBSCRIPTION_OWNER },
  };
}

export class WebhookdClient {
  readonly #http: WazoHttp;
  readonly #tokens: TokenProvider;
  constructor(http: WazoHttp, tokens: TokenProvider) {
    this.#http = http;
    this.#tokens = tokens;
  }

  async list(): Promise<WazoSubscription[]> {
    const path = `${WEBHOOKD}/subscriptions?search_metadata=${encodeURIComponent(`owner:${SUBSCRIPTION_OWNER}`)}`;
    return (await this.#call({ method: 'GET', path, tenant: true }, subscriptionListSchema)).items;
  }

  create(body: Record<string, unknown>): Promise<WazoSubscription> {
    return this.#call({ method: 'POST', path: `${WEBHOOKD}/subscriptions`, body, tenant: true }, subscriptionSchema);
  }

  update(uuid: string, body: Record<string, unknown>): Promise<WazoSubscription> {
    return this.#call(
      { method: 'PUT', path: `${WEBHOOKD}/subscriptions/${encodeURIComponent(uuid)}`, body, tenant: true },
      subscriptionSchema,
    );
  }

  /** Creates or updates our subscription. Returns what was done. Never logs the URL (it holds the secret). */
  async ensureSubscription(
    spec: SubscriptionSpec,
  ): Promise<{ action: 'created' | 'updated' | 'unchanged'; uuid: string }> {
    const wanted = subscriptionBody(spec);
    const mine = (await this.list()).filter((s) => s.metadata?.owner === SUBSCRIPTION_OWNER);
    const current = mine[0];
    if (!current) return { action: 'created', uuid: (await this.create(wanted)).uuid };
    const cfg = wanted.config as Record<string, string>;
    const same =
      current.config.url === cfg.url &&
      current.config.body === cfg.body &&
      current.config.verify_certificate === cfg.verify_certificate &&
      CHAT_EVENTS.every((e) => current.events.includes(e));
    if (same) return { action: 'unchanged', uuid: current.uuid };
    return { action: 'updated', uuid: (await this.update(current.uuid, wanted)).uuid };
  }

  #call<S extends z.ZodType>(req: Omit<WazoRequest, 'token'>, schema: S): Promise<z.output<S>> {
    return this.#http.authed(req, this.#tokens, schema);
  }
}

/**
 * Runs ensureSubscription until it succeeds or `signal` aborts, waiting with capped backoff (2 s … 5 min)
 * between attempts, so an unreachable webhookd never stops the bridge from starting.
 */
export async function keepSubscription(
  client: WebhookdClient,
  spec: SubscriptionSpec,
  opts: {
    signal: AbortSignal;
    wait: (ms: number) => Promise<void>;
    onError: (err: unknown) => void;
    random?: () => number;
  },
): Promise<{ action: 'created' | 'updated' | 'unchanged'; uuid: string } | undefined> {
  for (let attempt = 1; !opts.signal.aborted; attempt++) {
    try {
      return await client.ensureSubscription(spec);
    } catch (err) {
      opts.onError(err);
      const base = Math.min(300_000, 2000 * 2 ** Math.min(20, attempt - 1));
      await opts.wait(Math.round(base * (0.8 + 0.4 * (opts.random ?? Math.random)())));
    }
  }
  return undefined;
}
